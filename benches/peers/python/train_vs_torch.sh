#!/bin/bash
# Tangent's training step against PyTorch's, in one window: `tangent bench-train` and
# torch_train.py on 1 and 2 threads, dense and masked, alternated ROUNDS times (default 3;
# shared machines drift by 10-25% within minutes), then per case the median step of each and
# the ratio tangent / torch of the medians.
# Usage: [ROUNDS=3] train_vs_torch.sh [MNIST_DIR]   (needs setup.sh --with-torch and a release build)
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
for _ in $(seq "${ROUNDS:-3}"); do
  for t in 1 2; do
    "$py" "$here/torch_train.py" --threads "$t" "${mnist[@]}" | tee -a "$out"
    "$py" "$here/torch_train.py" --threads "$t" --masked "${mnist[@]}" | tee -a "$out"
  done
  "$bin" bench-train -q --no-write | grep '^note: train ' | sed 's/^note: //' | tee -a "$out"
done
python3 - "$out" <<'PY'
import re, statistics, sys
torch, ours = {}, {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    key = (kv.get("threads"), kv.get("masked"))
    if "median_step_ms" in kv:
        torch.setdefault(key, []).append(float(kv["median_step_ms"]))
    elif "tangent_step_ms" in kv:
        ours.setdefault(key, []).append(float(kv["tangent_step_ms"]))
for key in sorted(ours):
    if key in torch:
        a, b = statistics.median(ours[key]), statistics.median(torch[key])
        print(f"ratio threads={key[0]} masked={key[1]} rounds={len(ours[key])} "
              f"tangent_ms={a:.3f} torch_ms={b:.3f} tangent/torch={a / b:.2f}")
PY
