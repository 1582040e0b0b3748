#!/bin/bash
# One forward pass of the reference MLPs (a), (b), (c), f32: `tangent bench-jacobian
# --reference-only` alternated with jax_jacobian.py (passes only) ROUNDS times (default 5), then
# the medians over rounds and their ratios. Usage: forward_vs_jax.sh [PYTHON] (a Python with JAX).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${1:-/tmp/tangent-peers/venv/bin/python}
rounds=${ROUNDS:-5}
tangent=${TANGENT:-$here/../../../target/release/tangent}
log=$(mktemp)
pick='
import json, sys
for c in json.load(sys.stdin)["cases"]:
    if c["method"] == "forward" and c["dtype"] == "f32":
        print("tangent,%s,%s" % (c["model"], c["median_s"]))
'
for r in $(seq 1 "$rounds"); do
  "$tangent" bench-jacobian --reference-only --reps 15 -q --no-write --json |
    "$py" -c "$pick" >>"$log"
  for m in a b c; do
    "$py" "$here/jax_jacobian.py" f32 "$m" passes 15 | awk -F, -v m="$m" '$1 == "forward" {print "jax," m "," $4}' >>"$log"
  done
done
"$py" - "$log" <<'PY'
import sys, statistics as st
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip()]
for m in "abc":
    t = [float(r[2]) for r in rows if r[0] == "tangent" and r[1] == m]
    j = [float(r[2]) for r in rows if r[0] == "jax" and r[1] == m]
    print(f"forward ({m}) f32: tangent {1e3 * st.median(t):.3f} ms, JAX {1e3 * st.median(j):.3f} ms, "
          f"tangent/JAX {st.median(t) / st.median(j):.2f} (per round {', '.join(f'{a / b:.2f}' for a, b in zip(t, j))})")
PY
rm -f "$log"
