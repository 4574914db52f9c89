#!/usr/bin/env bash
# Reruns the sparsify measurements of docs/benchmarks.md on this machine: all-MiniLM-L6-v2 from
# Maven Central, Debian sentences (scripts/debian-sentences.sh), CPU only.
#   scripts/bench-sparsify.sh [WORK_DIR]     (default: sparsify/target/bench)
# BENCH_SMOKE=1 runs every step once on few sentences (16 to calibrate, 30 to evaluate): a check
# that the commands work, not a measurement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
. "$root/scripts/lib/minilm-bench.sh"
if [ -n "${BENCH_SMOKE:-}" ]; then runs=1 gpt_samples=16 ptq_samples=16 eval_samples=30
else runs=3 gpt_samples=512 ptq_samples=128 eval_samples=0; fi
# Seconds a command took; a failing command prints its output and stops the script.
elapsed() {
  local s=$(date +%s.%N)
  "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log" >&2; return 1; }
  awk -v a="$(date +%s.%N)" -v b="$s" 'BEGIN { printf "%.2f\n", a - b }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== magnitude prune (whole command, JVM start included), $runs runs"
for i in $(seq 1 $runs); do
  t=$(elapsed sparsify prune --method magnitude --model "$dense" --out "$work/magnitude.onnx"); echo "  $t s"
done
echo "== sparsegpt prune, $gpt_samples calibration sentences"
t=$(elapsed sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples $gpt_samples); echo "  $t s"
echo "== int8 PTQ of the sparsegpt model (99.99th percentile, $ptq_samples sentences)"
t=$(elapsed sparsify quantize --model "$work/sparsegpt.onnx" --out "$work/sparsegpt-int8.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples $ptq_samples); echo "  $t s"
for m in magnitude sparsegpt sparsegpt-int8; do
  echo "== $m vs dense, held-out sentences (${eval_samples/#0/all 300})"
  sparsify verify --model "$work/$m.onnx" | sed 's/^/  /'
  sparsify evaluate --dense "$dense" --candidate "$work/$m.onnx" --tokenizer "$tok" \
    --data "$work/evaluation.txt" --labels "$work/evaluation-labels.txt" --samples $eval_samples \
    | sed 's/^/  /'
done
