#!/usr/bin/env bash
# The four CPU variants of all-MiniLM-L6-v2 (dense and SparseGPT 2:4, fp32 and int8 PTQ), built,
# timed and compared with dense exactly as the pipeline's engine and evaluation stages do it
# (docs/benchmarks.md, "Variants"). Shares its downloads with scripts/bench-sparsify.sh.
#   scripts/bench-variants.sh [WORK_DIR]     (default: sparsify/target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
. "$root/scripts/lib/minilm-bench.sh"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
[ -f "$work/sparsegpt.onnx" ] || sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples 512 >/dev/null
for m in all-minilm-l6-v2:dense-int8 sparsegpt:sparsegpt-int8; do
  sparsify quantize --model "$work/${m%%:*}.onnx" --out "$work/${m##*:}.onnx" \
    --tokenizer "$tok" --calibration "$work/calibration.txt" --samples 128 >/dev/null
done
echo "== build-engine: four variants, batch 1,8,32 x sequence 1,128,128 (timed at 8x128 and 32x128)"
start=$(date +%s)
sparsify build-engine --backend onnxruntime --model "$work/sparsegpt-int8.onnx" --dense "$dense" \
  --out "$work/variants" --batch 1,8,32 --sequence 1,128,128 \
  --variant "dense-fp32=$dense" --variant "dense-int8=$work/dense-int8.onnx" \
  --variant "sparse-fp32=$work/sparsegpt.onnx" --variant "sparse-int8=$work/sparsegpt-int8.onnx"
echo "  ($(( $(date +%s) - start )) s for the whole command)"
echo "== evaluate: every variant against dense on the 300 held-out sentences"
sparsify evaluate --dense "$dense" --candidate "$work/sparsegpt-int8.onnx" --tokenizer "$tok" \
  --data "$work/evaluation.txt" --variant "dense-int8=$work/dense-int8.onnx" \
  --variant "sparse-fp32=$work/sparsegpt.onnx"
