package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.quantize.QuantizeRun;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OptimizerParamGroupVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Sparse fine-tuning by knowledge distillation: the 2:4 student (run by libtorch from its own ONNX
 * graph) learns the dense teacher's mean-pooled sentence embeddings (MiniLM-style last-layer
 * distillation), with every pruned weight held at exactly zero by its mask. The teacher runs in
 * ONNX Runtime. The student starts from a pruned model (its zeros are the masks), from the dense
 * weights pruned 2:4 by magnitude at once, or progressively (1:4 for the first half of the steps,
 * then 2:4 by the recovered magnitudes). With int8 QAT every layer trains through fake quantizers
 * and the output carries Q/DQ nodes. With labels a task loss joins (or, without distillation,
 * replaces) the teacher's terms. Writes the same graph with the new weights.
 */
public final class FineTuner {
  /** Activation percentile for the int8 scales, as PTQ calibrates (99.99% coverage). */
  static final double QAT_PERCENTILE = 99.99;

  private static final int QAT_CALIBRATION_BATCHES = 16;

  private static final long TASK_HEAD_SEED = 20261122L;

  /** How to train; a checkpoint is only resumed by a run with equal options. */
  public record Options(
      int steps,
      int batchSize,
      double learningRate,
      double weightDecay,
      int evalEvery,
      double tokenLossWeight,
      double layerLossWeight,
      double taskLossWeight,
      boolean distillation,
      boolean progressive,
      boolean int8) {}

  /** Where checkpoints go (null: none) and how often; a run finds its own there and resumes. */
  public record Resume(Path directory, int every) {
    public static final Resume NONE = new Resume(null, Integer.MAX_VALUE);
  }

  /** One held-out measurement. */
  public record Checkpoint(int step, double loss, double fidelity, double seconds) {}

  /** What the run did and reached. */
  public record Report(
      String output,
      String start,
      int steps,
      int trainedTensors,
      int maskedLayers,
      double initialFidelity,
      double finalFidelity,
      List<Checkpoint> history,
      double seconds) {}

  /** A stretch of steps trained under one n:4 mask, with its own warm-up and decay. */
  record Phase(int pruned, int first, int last) {}

  private FineTuner() {}

  /**
   * Fine-tunes from {@code init} (a pruned model whose zeros are kept), or from the dense weights
   * when {@code init} is null, pruning the layers {@code finder} picks.
   */
  public static Report run(
      Path dense,
      Path init,
      LayerFinder finder,
      TrainingData train,
      List<TokenBatch> evalBatches,
      Path out,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> progress) {
    if (init != null && options.progressive()) {
      throw new SparsifyException(
          "a progressive schedule prunes the dense weights itself (1:4, then 2:4); drop --init");
    }
    if (!options.distillation() && !train.labelled()) {
      throw new SparsifyException(
          "without distillation the only loss is the task loss, which needs labels: give --labels"
              + " (one per training sentence) or keep distillation on");
    }
    List<TokenBatch> trainBatches = train.batches();
    torch.set_num_threads(threads);
    long start = System.nanoTime();
    OnnxModel student = OnnxModel.load(init != null ? init : dense);
    List<PrunableLayer> layers = finder.find(student).prunable();
    List<Phase> phases = phases(options, init != null);
    try (TorchGraph graph = TorchGraph.of(student);
        Teacher teacher =
            Teacher.open(
                dense, Distillation.distilled(options, layers, graph), trainBatches, threads)) {
      List<float[][]> evalTargets = new ArrayList<>();
      for (TokenBatch b : evalBatches) {
        evalTargets.add(teacher.embed(b));
      }
      List<Tensor> parameters = new ArrayList<>();
      List<String> names = new ArrayList<>();
      Set<String> frozen = graph.lookupTables();
      for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
        if (e.getValue().is_floating_point()
            && e.getValue().numel() > 1
            && !frozen.contains(e.getKey())) {
          e.getValue().requires_grad_(true);
          parameters.add(e.getValue());
          names.add(e.getKey());
        }
      }
      TaskHead head =
          train.labelled()
              ? new TaskHead(train.classes().size(), evalTargets.get(0)[0].length, TASK_HEAD_SEED)
              : null;
      if (head != null) {
        parameters.add(head.parameter()); // trained and checkpointed, never exported
      }
      TensorVector trainable = new TensorVector(parameters.toArray(Tensor[]::new));
      AdamWOptions adamW = new AdamWOptions(options.learningRate());
      adamW.weight_decay().put(options.weightDecay());
      AdamW optimizer = new AdamW(trainable, adamW);

      Checkpoints checkpoints =
          resume.directory() == null ? null : new Checkpoints(resume.directory());
      Checkpoints.State saved =
          checkpoints == null ? null : checkpoints.load(options, parameters, optimizer);
      int first = saved == null ? 1 : saved.step() + 1;
      // A checkpoint's zeros are its masks; a fresh run prunes for its first phase now.
      Masks masks =
          saved != null || phases.get(0).pruned() == 0
              ? Masks.fromZeros(graph, layers)
              : Masks.byMagnitude(graph, layers, phases.get(0).pruned());
      Map<String, Float> scales = null;
      if (options.int8()) {
        // Calibrated once on the pruned start; a resumed run keeps the scales it trained with.
        if (saved != null && saved.activationScales() != null) {
          scales = saved.activationScales();
        } else {
          writeBack(student, graph, names);
          scales =
              QuantizeRun.calibrate(
                  student,
                  trainBatches.subList(0, Math.min(QAT_CALIBRATION_BATCHES, trainBatches.size())),
                  QAT_PERCENTILE,
                  threads);
          progress.accept("int8 QAT: " + scales.size() + " activation scales calibrated");
        }
        graph.inputHook(new FakeQuant(layers, scales));
      }
      Objective objective = new Objective(options, graph, teacher, train, head);
      List<Checkpoint> history = new ArrayList<>();
      double initial =
          saved != null
              ? saved.initialFidelity()
              : Distillation.fidelity(graph, evalBatches, evalTargets);
      if (saved != null) {
        history.addAll(saved.history());
        progress.accept("resumed from the checkpoint at step " + saved.step());
      } else {
        progress.accept(String.format("step 0: held-out fidelity %.4f", initial));
      }
      double recentLoss = Double.NaN;
      for (int step = first; step <= options.steps(); step++) {
        Phase phase = phaseOf(phases, step);
        if (step == phase.first() && step > 1 && phase.pruned() > 0) {
          masks = Masks.byMagnitude(graph, layers, phase.pruned());
          progress.accept(
              String.format(
                  "step %d: pruned to %d:4, held-out fidelity %.4f",
                  step - 1,
                  4 - phase.pruned(),
                  Distillation.fidelity(graph, evalBatches, evalTargets)));
        }
        setLearningRate(optimizer, options.learningRate() * learningRateScale(phase, step));
        try (PointerScope scope = new PointerScope()) {
          Tensor loss = objective.loss(step);
          optimizer.zero_grad();
          loss.backward();
          torch.clip_grad_norm_(trainable, 1.0, 2.0, false);
          optimizer.step();
          masks.apply();
          recentLoss =
              Double.isNaN(recentLoss)
                  ? loss.item_float()
                  : 0.9 * recentLoss + 0.1 * loss.item_float();
        }
        if (step % options.evalEvery() == 0 || step == options.steps()) {
          double fidelity = Distillation.fidelity(graph, evalBatches, evalTargets);
          double seconds = (System.nanoTime() - start) / 1e9;
          history.add(new Checkpoint(step, recentLoss, fidelity, seconds));
          double eta = seconds / (step - first + 1) * (options.steps() - step);
          progress.accept(
              String.format(
                  "step %d/%d: loss %.4f, held-out fidelity %.4f, %.0f s, ETA %.0f s",
                  step, options.steps(), recentLoss, fidelity, seconds, eta));
        }
        if (checkpoints != null && step % resume.every() == 0 && step < options.steps()) {
          checkpoints.save(
              new Checkpoints.State(step, options, initial, List.copyOf(history), scales),
              parameters,
              optimizer);
        }
      }
      writeBack(student, graph, names);
      if (scales != null) {
        QuantizeRun.exportTrained(
            student,
            scales,
            evalBatches.get(0),
            threads,
            "int8-qat percentile=" + QAT_PERCENTILE,
            out);
      } else {
        student.save(out);
      }
      if (checkpoints != null) {
        checkpoints.delete();
      }
      double last = history.isEmpty() ? initial : history.get(history.size() - 1).fidelity();
      return new Report(
          out.toString(),
          init != null ? "init" : options.progressive() ? "progressive" : "magnitude",
          options.steps(),
          names.size(),
          masks.size(),
          round(initial),
          round(last),
          history,
          round((System.nanoTime() - start) / 1e9));
    }
  }

  /**
   * The optimizer keeps its own copy of the options it was built with: the rate must be set on its
   * parameter groups (setting it on the AdamWOptions passed in changes nothing).
   */
  static void setLearningRate(AdamW optimizer, double learningRate) {
    OptimizerParamGroupVector groups = optimizer.param_groups();
    for (long i = 0; i < groups.size(); i++) {
      groups.get(i).options().set_lr(learningRate);
    }
  }

  private static void writeBack(OnnxModel student, TorchGraph graph, List<String> names) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (String name : names) {
        student.setFloats(name, TorchTensors.toFloats(graph.initializers().get(name).detach()));
      }
    }
  }

  /**
   * From a pruned init: one phase. From dense: 2:4 at once, or 1:4 then 2:4 (half the steps each).
   */
  static List<Phase> phases(Options options, boolean fromInit) {
    int steps = options.steps();
    if (fromInit) {
      return List.of(new Phase(0, 1, steps));
    }
    if (!options.progressive()) {
      return List.of(new Phase(2, 1, steps));
    }
    int half = Math.max(1, steps / 2);
    return List.of(new Phase(1, 1, half), new Phase(2, half + 1, steps));
  }

  private static Phase phaseOf(List<Phase> phases, int step) {
    for (Phase p : phases) {
      if (step <= p.last()) {
        return p;
      }
    }
    return phases.get(phases.size() - 1);
  }

  /** Linear warm-up over the phase's first 10% of steps, then linear decay to zero at its end. */
  static double learningRateScale(Phase phase, int step) {
    int length = phase.last() - phase.first() + 1;
    int at = step - phase.first() + 1;
    double warm = Math.max(1, length / 10.0);
    return at <= warm ? at / warm : Math.max(0, (length - at) / (length - warm));
  }

  private static double round(double value) {
    return Math.round(value * 10000) / 10000.0;
  }
}
