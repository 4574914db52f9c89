#!/usr/bin/env bash
# The ranker measurements of docs/benchmarks.md: all-MiniLM-L6-v2 from Maven Central with a
# ranking head trained by `sparsify head --task ranking` on the training pairs of
# scripts/debian-pairs.sh (package synopses against description sentences, graded 2/1/0), then
# each method against that dense ranker: on the 60 held-out queries (packages never trained or
# calibrated on) and on license text (out of domain), both with graded labels. CPU only. With
# `finetune`, also 300 steps of distillation of the SparseGPT ranker's scores on the training
# pairs at learning rate 3e-5 (no grades read; about 3.5 more minutes).
#   scripts/bench-ranker.sh [WORK_DIR] [finetune]   (default: sparsify/target/bench-ranker)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench-ranker}
. "$root/scripts/lib/minilm-bench.sh"
scripts/debian-pairs.sh "$work" 2>/dev/null
r=$work/ranker.onnx
pairs=(--task ranking --tokenizer "$tok")
echo "== head: trained on ranking-train.tsv"
sparsify head "${pairs[@]}" --dense "$dense" --train "$work/ranking-train.tsv" \
  --labels "$work/ranking-train-grades.txt" --out "$r" | sed 's/^/  /'
keep=(--exclude '^ranker\.') # the head stays dense, as manifests/samples/minilm-ranker.yaml
sparsify prune --method magnitude --model "$r" "${keep[@]}" --out "$work/magnitude.onnx" >/dev/null
sparsify prune --method sparsegpt --model "$r" "${keep[@]}" --out "$work/sparsegpt.onnx" \
  "${pairs[@]}" --calibration "$work/ranking-train.tsv" --samples 512 >/dev/null
for m in ranker sparsegpt; do
  sparsify quantize --model "$work/$m.onnx" --out "$work/$m-int8.onnx" "${pairs[@]}" \
    --calibration "$work/ranking-train.tsv" --samples 512 >/dev/null
done
candidates=(ranker magnitude sparsegpt ranker-int8 sparsegpt-int8)
if [ "${2:-}" = finetune ]; then
  sparsify finetune "${pairs[@]}" --dense "$r" --init "$work/sparsegpt.onnx" \
    --train "$work/ranking-train.tsv" --steps 300 --batch-size 16 --eval-every 100 --lr 3e-5 \
    --out "$work/finetuned.onnx" | tail -1 | sed 's/^/  /'
  candidates+=(finetuned)
fi
for m in "${candidates[@]}"; do
  for set in eval licenses; do
    echo "== $m vs the dense ranker, ranking-$set.tsv"
    sparsify evaluate "${pairs[@]}" --dense "$r" --candidate "$work/$m.onnx" \
      --data "$work/ranking-$set.tsv" --labels "$work/ranking-$set-grades.txt" | sed -n 1,2p \
      | sed 's/^/  /'
  done
done
echo "== the encoder's plain cosine (no head) on the same pairs: what the training added"
sparsify head "${pairs[@]}" --dense "$dense" --train "$work/ranking-train.tsv" \
  --labels "$work/ranking-train-grades.txt" --steps 0 --out "$work/cosine.onnx" >/dev/null
for set in eval licenses; do
  sparsify evaluate "${pairs[@]}" --dense "$work/cosine.onnx" --candidate "$work/cosine.onnx" \
    --data "$work/ranking-$set.tsv" --labels "$work/ranking-$set-grades.txt" | sed -n 2p \
    | sed "s/^/  $set: /"
done
