#!/usr/bin/env bash
# Data-parallel fine-tuning on this machine: the real all-MiniLM-L6-v2 fine-tuned from its
# SparseGPT 2:4 model by 1 worker (2 threads) and by 2 worker processes (1 thread each) meeting
# over loopback, same global batch. Prints seconds per step (between the held-out measurements at
# steps 20 and 60) and what adding up the gradients cost.
#   scripts/bench-data-parallel.sh [WORK_DIR]     (default: sparsify/target/bench)
# BENCH_SMOKE=1: 6 steps of 4: a check that it works, not a measurement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/sparsify/target/bench}
. "$root/scripts/lib/minilm-bench.sh"
if [ -n "${BENCH_SMOKE:-}" ]; then steps=6 every=2 batch=4 gpt=16; else steps=60 every=20 batch=16 gpt=512; fi
init=$work/sparsegpt.onnx
[ -f "$init" ] || sparsify prune --method sparsegpt --model "$dense" --out "$init" --tokenizer "$tok" \
  --calibration "$work/calibration.txt" --samples $gpt >/dev/null 2>&1
head -n 32 "$work/evaluation.txt" > "$work/dp-held-out.txt"
# Runs one worker set; its progress goes to dp-NAME-RANK.log.
workers() {
  local name=$1 count=$2 threads=$3 port=$((29500 + RANDOM % 1000)) pids=()
  rm -rf "$work/dp-$name.checkpoint"   # a run aborted earlier must not be resumed
  for rank in $(seq 0 $((count - 1))); do
    local extra=()
    [ "$count" -gt 1 ] && extra=(--workers "$count" --rank "$rank" --master "127.0.0.1:$port")
    sparsify finetune --dense "$dense" --init "$init" --tokenizer "$tok" --train "$work/calibration.txt" \
      --held-out "$work/dp-held-out.txt" --out "$work/dp-$name.onnx" --steps $steps --batch-size $batch \
      --eval-every $every --checkpoint "$work/dp-$name.checkpoint" --threads "$threads" ${extra[@]+"${extra[@]}"} \
      >/dev/null 2>"$work/dp-$name-$rank.log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { cat "$work/dp-$name-"*.log >&2; return 1; }; done
  # Seconds per step between the first and the last held-out measurement.
  local a b
  a=$(sed -nE "s/.*step $every\/$steps: .*, ([0-9]+) s, ETA.*/\1/p" "$work/dp-$name-0.log")
  b=$(sed -nE "s/.*step $steps\/$steps: .*, ([0-9]+) s, ETA.*/\1/p" "$work/dp-$name-0.log")
  awk -v a="$a" -v b="$b" -v n=$((steps - every)) 'BEGIN { printf "  %.2f s per step\n", (b - a) / n }'
  grep -h "added up" "$work/dp-$name-0.log" | sed 's/^/  /' || true
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== 1 worker, 2 threads, $steps steps of $batch sentences"
workers one 1 2
echo "== 2 workers, 1 thread each, $steps steps of $batch sentences ($((batch / 2)) each)"
workers two 2 1
