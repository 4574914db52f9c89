#!/usr/bin/env bash
# The convolutional-network measurements of docs/benchmarks.md: PaddleOCR's real text-direction
# classifier (scripts/ocr-models.sh, from npm) on crops rendered from real text
# (scripts/ocr-direction-data.sh): each method against the dense model on 600 held-out crops of
# Debian descriptions (accuracy against the true direction, top-1 agreement) and on 600 crops of
# license text in another typeface (out of domain). Calibration: 512 other crops. The first 20
# convolutions stay dense in the runs named "late" (the early layers of this small network do
# not survive one-shot 2:4 by either method; the "all" runs show it). CPU only, about 1.5 minutes
# once the model and fonts are cached. With `finetune`, also 200 steps of distillation (fp32 from
# the SparseGPT and the magnitude masks, and int8 QAT from SparseGPT's) of every eligible layer on
# 1954 crops of the 977 calibration sentences, none of them held out (about 5 more minutes).
#   scripts/bench-cnn.sh [WORK_DIR] [finetune]   (default: sparsify/target/bench-cnn)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench-cnn}
mkdir -p "$work"
cd "$root"
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
sparsify() { java -jar "$jar" "$@"; }
dense=$(scripts/ocr-models.sh)/ch_ppocr_mobile_v2.0_cls_infer.onnx
scripts/ocr-direction-data.sh "$work"
cal=(--calibration "$work/calibration.npz" --samples 512)
late=(--exclude '^conv2d_([0-9]|1[0-9])\.w')
sparsify prune --method magnitude --model "$dense" --out "$work/magnitude-all.onnx" >/dev/null
sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt-all.onnx" "${cal[@]}" \
  >/dev/null 2>&1
sparsify prune --method magnitude --model "$dense" "${late[@]}" --out "$work/magnitude-late.onnx" \
  | head -1
sparsify prune --method sparsegpt --model "$dense" "${late[@]}" --out "$work/sparsegpt-late.onnx" \
  "${cal[@]}" 2>/dev/null | head -1
for m in dense sparsegpt-late; do
  in=$dense
  [ "$m" = dense ] || in=$work/$m.onnx
  sparsify quantize --model "$in" --out "$work/$m-int8.onnx" "${cal[@]}" 2>/dev/null | tail -1
done
sparsify verify --model "$work/sparsegpt-late-int8.onnx" | tail -1
candidates=(magnitude-all sparsegpt-all magnitude-late sparsegpt-late dense-int8 sparsegpt-late-int8)
if [ "${2:-}" = finetune ]; then
  java "$root/scripts/lib/RenderTextLines.java" /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
    "$work/text/calibration.txt" "$work/training.npz" "$work/training-labels.txt" >/dev/null
  # Held out while training: the fine-tune's own last 10% of training.npz, not the sets below.
  tune=(--dense "$dense" --train "$work/training.npz" --steps 200 --batch-size 32 --eval-every 100
    --threads 2)
  sparsify finetune "${tune[@]}" --init "$work/sparsegpt-all.onnx" \
    --out "$work/sparsegpt-all-finetuned.onnx" | tail -1
  sparsify finetune "${tune[@]}" --out "$work/magnitude-all-finetuned.onnx" | tail -1
  sparsify finetune "${tune[@]}" --init "$work/sparsegpt-all.onnx" --qat int8 \
    --out "$work/sparsegpt-all-qat.onnx" | tail -1
  candidates+=(sparsegpt-all-finetuned magnitude-all-finetuned sparsegpt-all-qat)
fi
for m in "${candidates[@]}"; do
  for set in evaluation licenses; do
    echo "== $m vs dense, $set"
    sparsify evaluate --task classification --dense "$dense" --candidate "$work/$m.onnx" \
      --data "$work/$set.npz" --labels "$work/$set-labels.txt" | sed 's/^/  /'
  done
done
