#!/usr/bin/env bash
# Reruns the serving measurements of docs/benchmarks.md: the packaged inference pod serving
# all-MiniLM-L6-v2 (ONNX Runtime, CPU) on loopback, against in-process ONNX Runtime.
# Usage: scripts/bench-serving.sh [OVERLOAD_SECONDS]   (how long the 64-client overload lasts; 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=inference-pod/target/bench
mkdir -p "$work"
[ -f inference-pod/target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -pl inference-pod -am -DskipTests
# One reactor run with -am: the sibling modules resolve from their build output (verify installs
# nothing), and inference-pod, built last, leaves its classpath in cp.txt.
./mvnw -B -q test-compile dependency:build-classpath -pl inference-pod -am \
  -Dmdep.outputFile="$PWD/$work/cp.txt" >/dev/null
if [ ! -f "$work/all-minilm-l6-v2.onnx" ]; then
  (cd "$work" && unzip -o -q "$(tr ':' '\n' <cp.txt | grep all-minilm-l6-v2)" all-minilm-l6-v2.onnx)
fi
port=18080
# A queue of 16 so that the 64-client overload phase shows the server refusing the excess (429).
MAX_QUEUE=16 MODEL_NAME=minilm MODEL_PATH="$work/all-minilm-l6-v2.onnx" PORT=$port \
  java -jar inference-pod/target/quarkus-app/quarkus-run.jar >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "localhost:$port/v2/health/ready" >/dev/null && break; sleep 0.5; done
echo "machine: $(nproc) cores; server and load generator share them"
# The load generator needs only ONNX Runtime (for the in-process baseline) beside its own class.
ort=$(tr ':' '\n' <"$work/cp.txt" | grep '/onnxruntime-[0-9.]*\.jar$')
java -cp "inference-pod/target/test-classes:$ort" io.sparserollout.serving.ServingBenchmark \
  "$work/all-minilm-l6-v2.onnx" "http://127.0.0.1:$port" "$server" "${1:-20}"
