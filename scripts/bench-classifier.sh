#!/usr/bin/env bash
# The classifier measurements of docs/benchmarks.md: all-MiniLM-L6-v2 from Maven Central with a
# linear head trained by `sparsify head` on the Debian sections of the calibration sentences
# (scripts/debian-sentences.sh), then each method against that dense classifier: on the 300
# held-out Debian sentences (accuracy against their sections, top-1 agreement) and on license text
# (out of domain, no labels: agreement only). CPU only. With `finetune`, also 300 steps of
# distillation from the SparseGPT model on 20000 unlabelled sentences of the Debian archive
# (scripts/debian-training-text.sh, fetched once with apt; about 2 more minutes).
#   scripts/bench-classifier.sh [WORK_DIR] [finetune]   (default: sparsify/target/bench-classifier)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench-classifier}
. "$root/scripts/lib/minilm-bench.sh"
scripts/license-sentences.sh "$work/licenses.txt"
c=$work/classifier.onnx
echo "== head: 8 most frequent sections and 'other', trained on calibration.txt"
sparsify head --dense "$dense" --tokenizer "$tok" --train "$work/calibration.txt" \
  --labels "$work/calibration-labels.txt" --classes 8 --out "$c" | sed 's/^/  /'
keep=(--exclude '^classifier\.') # the head stays dense, as manifests/samples/minilm-sections.yaml
sparsify prune --method magnitude --model "$c" "${keep[@]}" --out "$work/magnitude.onnx" >/dev/null
sparsify prune --method sparsegpt --model "$c" "${keep[@]}" --out "$work/sparsegpt.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples 512 >/dev/null
for m in classifier sparsegpt; do
  sparsify quantize --model "$work/$m.onnx" --out "$work/$m-int8.onnx" --tokenizer "$tok" \
    --calibration "$work/calibration.txt" --samples 512 >/dev/null
done
candidates=(magnitude sparsegpt classifier-int8 sparsegpt-int8)
if [ "${2:-}" = finetune ]; then
  [ -f "$work/training.txt" ] || scripts/debian-training-text.sh "$work" 20000 2>/dev/null
  sparsify finetune --dense "$c" --init "$work/sparsegpt.onnx" --tokenizer "$tok" \
    --train "$work/training.txt" --held-out "$work/evaluation.txt" --steps 300 --batch-size 16 \
    --eval-every 100 --out "$work/finetuned.onnx" | tail -1 | sed 's/^/  /'
  candidates+=(finetuned)
fi
for m in "${candidates[@]}"; do
  echo "== $m vs the dense classifier, 300 held-out Debian sentences"
  sparsify evaluate --task classification --dense "$c" --candidate "$work/$m.onnx" \
    --tokenizer "$tok" --data "$work/evaluation.txt" --labels "$work/evaluation-labels.txt" \
    | sed 's/^/  /'
  echo "== $m vs the dense classifier, license text (out of domain)"
  sparsify evaluate --task classification --dense "$c" --candidate "$work/$m.onnx" \
    --tokenizer "$tok" --data "$work/licenses.txt" | sed -n 1p | sed 's/^/  /'
done
