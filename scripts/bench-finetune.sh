#!/usr/bin/env bash
# Reruns the fine-tuning measurements of docs/benchmarks.md on this machine (CPU, libtorch):
# all-MiniLM-L6-v2, trained on Debian package descriptions (scripts/debian-training-text.sh),
# measured on the 300 held-out sentences of scripts/debian-sentences.sh, which it never trains on.
#   scripts/bench-finetune.sh [default|qat|task|schedules|all|resume] [STEPS_FOR_SCHEDULES]
#     default    finetune with its defaults from the SparseGPT 2:4 model, then evaluate and verify
#     qat        the same with --qat int8
#     task       the same with a task loss from labels: each training sentence's Debian section
#                (the held-out sentences' labels are sections too, so evaluate's accuracy, NDCG and
#                PNR show what the task loss does to the task)
#     schedules  one-shot magnitude 2:4 against the progressive 1:4 -> 2:4 schedule, both from the
#                dense weights, at the same step budget (default 1000)
#     resume     200 steps of int8 QAT uninterrupted, then the same run killed (kill -9) after its
#                step-100 checkpoint and started again: both must end with the same numbers
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
schedule_steps=${2:-1000}
work=${BENCH_DIR:-$root/sparsify/target/bench}
cd "$root"
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
dense=$work/all-minilm-l6-v2.onnx
tok=$work/all-minilm-l6-v2-tokenizer.json
[ -f "$work/sparsegpt.onnx" ] || scripts/bench-sparsify.sh "$work" >/dev/null
[ -f "$work/training-labels.txt" ] || scripts/debian-training-text.sh "$work"
sparsify() { java -jar "$jar" "$@"; }

# finetune NAME ARGS...: trains, then checks the export in ONNX Runtime and its 2:4 pattern.
finetune() {
  local name=$1
  shift
  local out=$work/finetuned-$name.onnx
  rm -rf "$out.checkpoint"
  echo "== $name: finetune $*"
  local start=$(date +%s)
  sparsify finetune --dense "$dense" --tokenizer "$tok" --train "$work/training.txt" \
    --held-out "$work/evaluation.txt" --out "$out" --eval-every 250 "$@" 2>&1 | sed 's/^/  /'
  echo "  wall time: $(( $(date +%s) - start )) s"
  sparsify evaluate --dense "$dense" --candidate "$out" --tokenizer "$tok" \
    --data "$work/evaluation.txt" --labels "$work/evaluation-labels.txt" | sed 's/^/  /'
  sparsify verify --model "$out" | sed 's/^/  /'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "training sentences: $(wc -l <"$work/training.txt"), held-out: $(wc -l <"$work/evaluation.txt")"
case $what in default | all) finetune default --init "$work/sparsegpt.onnx" ;; esac
case $what in qat | all) finetune qat-int8 --init "$work/sparsegpt.onnx" --qat int8 ;; esac
case $what in
  task | all) finetune task --init "$work/sparsegpt.onnx" --labels "$work/training-labels.txt" ;;
esac
# resume: the preemption must-show (not part of all).
resume() {
  local dir=$work/resume
  rm -rf "$dir" && mkdir -p "$dir"
  qat200() {
    sparsify finetune --dense "$dense" --init "$work/sparsegpt.onnx" --tokenizer "$tok" \
      --train "$work/training.txt" --held-out "$work/evaluation.txt" --steps 200 --eval-every 100 \
      --checkpoint-every 100 --qat int8 "$@" 2>&1 | grep -v MergeShapeInfo | sed 's/^/  /'
  }
  echo "== 200 QAT steps, uninterrupted"
  qat200 --out "$dir/straight.onnx" --checkpoint "$dir/straight.ckpt"
  echo "== the same, killed after the step-100 checkpoint"
  qat200 --out "$dir/killed.onnx" --checkpoint "$dir/killed.ckpt" &
  until [ -f "$dir/killed.ckpt/latest" ]; do sleep 1; done
  pkill -9 -f "$dir/killed.onnx" || true
  wait || true
  echo "== started again"
  qat200 --out "$dir/killed.onnx" --checkpoint "$dir/killed.ckpt"
}
case $what in resume) resume ;; esac
case $what in
  schedules | all)
    finetune one-shot --steps "$schedule_steps"
    finetune progressive --steps "$schedule_steps" --progressive
    ;;
esac
