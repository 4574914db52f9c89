#!/usr/bin/env bash
# The raw-output (task tensor) measurements of docs/benchmarks.md: PaddleOCR's real PP-OCRv4 text
# recognizer (scripts/ocr-models.sh, from npm; its output is each position's character
# probabilities, [N, 40, 6625] for these crops 320 wide) on upright crops rendered from real text
# (scripts/ocr-recognition-data.sh): each method against the dense model output by output (the mean
# cosine of each crop's probabilities, the largest absolute difference) on 300 held-out crops of
# Debian descriptions and 300 crops of license text in another typeface (out of domain), and the
# share of crops whose greedily decoded text is the dense model's (scripts/lib/CtcAgreement.java).
# Calibration: 256 other crops. CPU only, about 5 minutes once the model and fonts are cached.
#   scripts/bench-ocr-recognition.sh [WORK_DIR]   (default: sparsify/target/bench-ocr-recognition)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench-ocr-recognition}
mkdir -p "$work"
cd "$root"
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
sparsify() { java -jar "$jar" "$@"; }
dense=$(scripts/ocr-models.sh)/ch_PP-OCRv4_rec_infer.onnx
scripts/ocr-recognition-data.sh "$work" 2>/dev/null
cal=(--calibration "$work/calibration.npz" --samples 256)
start=$SECONDS
sparsify prune --method magnitude --model "$dense" --out "$work/magnitude.onnx" | tail -1
echo "magnitude: $((SECONDS - start)) s"
start=$SECONDS
sparsify prune --method sparsegpt --task tensor --model "$dense" --out "$work/sparsegpt.onnx" \
  "${cal[@]}" 2>/dev/null | tail -1
echo "sparsegpt: $((SECONDS - start)) s"
for m in dense sparsegpt; do
  in=$dense
  [ "$m" = dense ] || in=$work/$m.onnx
  sparsify quantize --model "$in" --out "$work/$m-int8.onnx" "${cal[@]}" 2>/dev/null | tail -1
done
sparsify verify --model "$work/sparsegpt-int8.onnx" | tail -1
for m in magnitude sparsegpt dense-int8 sparsegpt-int8; do
  for set in evaluation licenses; do
    echo "== $m vs dense, $set"
    sparsify evaluate --task tensor --dense "$dense" --candidate "$work/$m.onnx" \
      --data "$work/$set.npz" | sed 's/^/  /'
    java -cp "$jar" scripts/lib/CtcAgreement.java "$dense" "$work/$m.onnx" "$work/$set.npz" \
      | sed 's/^/  /'
  done
done
