// Placeholder until the benchmark for this area lands.
fn main() {}
