#!/usr/bin/env bash
# SparseGPT's cost as models grow: the real all-MiniLM-L6-v2 (6 layers, 384 wide), then
# BERT-structured encoders built in code with random weights (sparsify's test class EncoderModels),
# 768 wide with 3, 6 and 12 layers (12 is BERT-base's size), 512 calibration sentences each.
# Prints the seconds and the memory peak (maximum resident set size) of each prune command.
#   scripts/bench-sparsegpt-depth.sh [WORK_DIR]     (default: sparsify/target/bench)
# SPARSIFY_JAR=path times another build of sparsify (an earlier commit's) on the same files.
# Each prune's progress (seconds per layer group) stays in WORK_DIR/depth-*.log.
# BENCH_SMOKE=1: 16 sentences, 1 layer: a check that it works, not a measurement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
. "$root/scripts/lib/minilm-bench.sh"
if [ -n "${BENCH_SMOKE:-}" ]; then samples=16 depths="1"; else samples=512 depths="3 6 12"; fi
built=$jar
jar=${SPARSIFY_JAR:-$jar}
classes=sparsify/target/test-classes
[ -f $classes/io/sparserollout/sparsify/EncoderModels.class ] || ./mvnw -B -q test-compile -pl sparsify -am
# One SparseGPT prune of the model given by the arguments, writing NAME-sparse.onnx and
# depth-NAME.log; prints its seconds and memory peak.
measure() {
  local name=$1; shift
  local log=$work/depth-$name.log
  local cmd=(java -jar "$jar" prune --method sparsegpt --out "$work/$name-sparse.onnx"
    --tokenizer "$tok" --calibration "$work/calibration.txt" --samples "$samples" "$@")
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %M' -o "$work/time.txt" "${cmd[@]}" >"$log" 2>&1 \
      || { cat "$log" >&2; return 1; }
    awk '{ printf "%.1f s, %.0f MB peak\n", $1, $2 / 1024 }' "$work/time.txt"
  else
    local s=$(date +%s.%N)
    "${cmd[@]}" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    awk -v a="$(date +%s.%N)" -v b="$s" 'BEGIN { printf "%.1f s (no /usr/bin/time: peak not measured)\n", a - b }'
  fi
}

echo "sparsify: $jar"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== all-MiniLM-L6-v2, 6 layers x 384 (24 layer groups), $samples sentences"
t=$(measure minilm --model "$dense"); echo "  $t"
for layers in $depths; do
  model=$work/encoder-${layers}x768.onnx
  [ -f "$model" ] || java -cp "$classes:$built" io.sparserollout.sparsify.EncoderModels \
    "$layers" 768 12 3072 "$model"
  echo "== random BERT-structured encoder, $layers layers x 768 ($((layers * 4)) layer groups), $samples sentences"
  t=$(measure "${layers}x768" --model "$model"); echo "  $t"
done
