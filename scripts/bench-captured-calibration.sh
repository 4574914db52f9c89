#!/usr/bin/env bash
# Calibrating on what a model serves, when that is not what its calibration file holds: the real
# all-MiniLM-L6-v2 served by the packaged inference pod with capture on, sent the sentences of the
# licenses in /usr/share/common-licenses (legal text: another domain than the Debian package
# descriptions of the calibration file), then SparseGPT 2:4 calibrated on the captured half of
# that traffic, on as many sentences of the file, and on half of each (mixed); each evaluated on
# two named held-out sets at once: the captured held-out half and the Debian held-out sentences.
# CPU only.
#   scripts/bench-captured-calibration.sh [WORK_DIR]     (default: sparsify/target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
. "$root/scripts/lib/minilm-bench.sh"
server_jar=inference-pod/target/quarkus-app/quarkus-run.jar
[ -f "$server_jar" ] || ./mvnw -B -q package -pl inference-pod -am -DskipTests

# The other domain: every sentence of the licenses, cut as the Debian sentences are.
licenses=$work/licenses.txt
scripts/license-sentences.sh "$licenses"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "other-domain sentences: $(wc -l <"$licenses")"

captured=$work/captured-licenses
rm -rf "$captured" && mkdir -p "$captured"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MODEL_NAME=minilm MODEL_PATH=$dense PORT=$port MANAGEMENT_PORT=0 GRPC_PORT=0 HOSTNAME=bench-pod \
  CAPTURE_DIR=$captured CAPTURE_ENABLED=true CAPTURE_FRACTION=1.0 CAPTURE_MAX_PER_HOUR=100000 \
  CAPTURE_MAX_TOTAL=100000 CAPTURE_RETENTION=24h java -jar "$server_jar" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 90); do
  curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
  sleep 1
done
sent=$(java -cp "$jar" scripts/lib/SendSentences.java "$tok" "$licenses" \
  "http://127.0.0.1:$port/v2/models/minilm/infer")
sleep 2
kill $server; wait $server 2>/dev/null || true; trap - EXIT
echo "sent through the pod: $sent requests; captured lines: $(cat "$captured"/*/*.jsonl | wc -l)"

sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt-captured.onnx" \
  --calibration "$captured" --captured-part calibration --samples 512 --json >"$work/prune-captured.json"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["captured"]["samples"])' "$work/prune-captured.json")
sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt-file-$n.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --samples "$n" >/dev/null
sparsify prune --method sparsegpt --model "$dense" --out "$work/sparsegpt-mixed.onnx" \
  --tokenizer "$tok" --calibration "$work/calibration.txt" --also-captured "$captured" \
  --captured-part calibration --samples "$n" >/dev/null
for m in "file-$n" captured mixed; do
  case $m in
    captured) what="$n samples of the captured (licenses) traffic" ;;
    mixed) what="$n samples, half the file's, half captured" ;;
    *) what="$n sentences of the Debian calibration file" ;;
  esac
  echo "== SparseGPT 2:4 calibrated on $what"
  # One evaluation, two named held-out sets (spec.evaluation.sets): the models load once.
  sparsify evaluate --dense "$dense" --candidate "$work/sparsegpt-$m.onnx" --tokenizer "$tok" \
    --set licenses="$captured" --set debian="$work/evaluation.txt" --captured-part held-out |
    grep '^set '
done
