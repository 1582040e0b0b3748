#!/bin/bash
# Tangent's training step against PyTorch's, in one window: `tangent bench-train` and
# torch_train.py on 1 and 2 threads, dense and masked, then the ratio tangent / torch per case.
# Usage: train_vs_torch.sh [MNIST_DIR]   (needs setup.sh --with-torch and a release build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
py=/tmp/tangent-peers/venv-torch/bin/python
[ -x "$py" ] || { echo "run $here/setup.sh --with-torch first" >&2; exit 1; }
bin="$repo/target/release/tangent"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
mnist=()
[ $# -ge 1 ] && mnist=(--mnist "$1")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in 1 2; do
  "$py" "$here/torch_train.py" --threads "$t" "${mnist[@]}" | tee -a "$out"
  "$py" "$here/torch_train.py" --threads "$t" --masked "${mnist[@]}" | tee -a "$out"
done
"$bin" bench-train -q --no-write | grep '^note: train ' | sed 's/^note: //' | tee -a "$out"
python3 - "$out" <<'PY'
import re, sys
torch, ours = {}, {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    key = (kv.get("threads"), kv.get("masked"))
    if "median_step_ms" in kv:
        torch[key] = float(kv["median_step_ms"])
    elif "tangent_step_ms" in kv:
        ours[key] = float(kv["tangent_step_ms"])
for key in sorted(ours):
    if key in torch:
        print(f"ratio threads={key[0]} masked={key[1]} tangent_ms={ours[key]:.3f} "
              f"torch_ms={torch[key]:.3f} tangent/torch={ours[key] / torch[key]:.2f}")
PY
