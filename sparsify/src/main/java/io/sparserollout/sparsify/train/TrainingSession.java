package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.quantize.QuantizeRun;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.train.FineTuner.Checkpoint;
import io.sparserollout.sparsify.train.FineTuner.Options;
import io.sparserollout.sparsify.train.FineTuner.Phase;
import io.sparserollout.sparsify.train.FineTuner.Report;
import io.sparserollout.sparsify.train.FineTuner.Resume;
import io.sparserollout.stage.ModelTask;
import io.sparserollout.stage.StageProgress;
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
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * One fine-tuning run in three parts: {@link #setUp} (trainable tensors, optimizer, checkpoint,
 * masks, int8 scales, the starting fidelity), {@link #train} (the step loop) and {@link #export}
 * (the weights written back into the ONNX graph, with Q/DQ under QAT).
 */
final class TrainingSession {
  private static final int QAT_CALIBRATION_BATCHES = 16;
  private static final long TASK_HEAD_SEED = 20261122L;

  /**
   * What the run was asked, and when it began (nanoTime, before the models loaded); {@code
   * qatCalibration}: the whole training batches, whatever share of them this worker trains on.
   */
  record Settings(
      FineTuner.Inputs in,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> progress,
      Consumer<StageProgress> live,
      long start,
      DataParallel parallel,
      List<? extends Batch> qatCalibration) {}

  private final FineTuner.Inputs in;
  private final Options options;
  private final Resume resume;
  private final int threads;
  private final Consumer<String> progress;
  private final Consumer<StageProgress> live;
  private final long start;
  private final DataParallel parallel;
  private final List<? extends Batch> qatCalibration;
  private final OnnxModel student;
  private final List<PrunableLayer> layers;
  private final TorchGraph graph;
  private final List<Phase> phases;
  private final List<float[][]> evalTargets = new ArrayList<>();
  private final List<Tensor> parameters = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final List<Checkpoint> history = new ArrayList<>();
  private TensorVector trainable;
  private AdamW optimizer;
  private Checkpoints checkpoints;
  private Masks masks;
  private Map<String, Float> scales;
  private Objective objective;
  private ModelTask task;
  private double initial;
  private double lastFidelity;
  private long stepsStarted;
  private int first;

  private TrainingSession(
      Settings settings, OnnxModel student, List<PrunableLayer> layers, TorchGraph graph) {
    this.in = settings.in();
    this.options = settings.options();
    this.resume = settings.resume();
    this.threads = settings.threads();
    this.progress = settings.progress();
    this.live = settings.live();
    this.start = settings.start();
    this.parallel = settings.parallel();
    this.qatCalibration = settings.qatCalibration();
    this.student = student;
    this.layers = layers;
    this.graph = graph;
    this.phases = FineTuner.phases(options, in.init() != null);
  }

  static TrainingSession setUp(
      Settings settings,
      OnnxModel student,
      List<PrunableLayer> layers,
      TorchGraph graph,
      Teacher teacher) {
    TrainingSession s = new TrainingSession(settings, student, layers, graph);
    FineTuner.Inputs in = s.in;
    Options options = s.options;
    Resume resume = s.resume;
    Consumer<String> progress = s.progress;
    for (Batch b : in.evalBatches()) {
      s.evalTargets.add(teacher.embed(b));
    }
    s.task = s.resolveTask(teacher);
    boolean scores = s.task == ModelTask.RANKING;
    TaskHead head = s.trainableTensors();
    s.trainable = new TensorVector(s.parameters.toArray(Tensor[]::new));
    AdamWOptions adamW = new AdamWOptions(options.learningRate());
    adamW.weight_decay().put(options.weightDecay());
    s.optimizer = new AdamW(s.trainable, adamW);
    s.checkpoints = resume.directory() == null ? null : new Checkpoints(resume.directory());
    Checkpoints.State saved =
        s.checkpoints == null ? null : s.checkpoints.load(options, s.parameters, s.optimizer);
    s.first = saved == null ? 1 : saved.step() + 1;
    s.parallel.agree(
        "the step to resume from, the options, the training batches and sentences, and the"
            + " trained values",
        s.first,
        options.hashCode(),
        in.train().batches().size(),
        s.qatCalibration.stream().mapToLong(Batch::size).sum(),
        s.parameters.stream().mapToLong(Tensor::numel).sum());
    // A checkpoint's zeros are its masks; a fresh run prunes for its first phase now.
    s.masks =
        saved != null || s.phases.get(0).pruned() == 0
            ? Masks.fromZeros(graph, layers)
            : Masks.byMagnitude(graph, layers, s.phases.get(0).pruned());
    if (options.int8()) {
      s.scales = s.activationScales(saved);
      // Every layer the export writes as int8, pruned or not: a layer left dense trains under
      // the quantization it will be served with too.
      graph.inputHook(new FakeQuant(QuantizeRun.quantizedLayers(student), s.scales));
    }
    s.objective =
        new Objective(
            options,
            graph,
            teacher,
            in.train(),
            head,
            s.parallel,
            s.task,
            scores ? Distillation.scoreVariance(s.evalTargets) : 1);
    s.initial =
        saved != null
            ? saved.initialFidelity()
            : Distillation.fidelity(graph, in.evalBatches(), s.evalTargets);
    if (saved != null) {
      s.history.addAll(saved.history());
      progress.accept("resumed from the checkpoint at step " + saved.step());
    } else {
      progress.accept(String.format("step 0: held-out fidelity %.4f", s.initial));
    }
    s.lastFidelity =
        s.history.isEmpty() ? s.initial : s.history.get(s.history.size() - 1).fidelity();
    s.publish(s.first - 1);
    return s;
  }

  /**
   * The task given, or read from the first output: logits [batch, classes] make a classifier, else
   * an encoder; one score per sample is a ranker's only where the task says so (its samples must be
   * pairs). Labels add a task loss to an encoder's pooled hidden states only.
   */
  private ModelTask resolveTask(Teacher teacher) {
    if (in.task() == ModelTask.TENSOR) {
      throw new io.sparserollout.sparsify.SparsifyException(
          "task tensor: a model of raw outputs is not fine-tuned yet (no loss distils its"
              + " outputs); prune it one-shot");
    }
    int width = evalTargets.get(0)[0].length;
    boolean logits = width > 1 && teacher.classifier(in.evalBatches().get(0));
    ModelTask task =
        in.task() != null
            ? in.task()
            : logits ? ModelTask.CLASSIFICATION : width == 1 ? null : ModelTask.EMBEDDING;
    if ((width == 1) != (task == ModelTask.RANKING)) {
      throw new io.sparserollout.sparsify.SparsifyException(
          width == 1
              ? "the dense model answers one score per sample, as a ranker does: give --task"
                  + " ranking, with query<TAB>document lines in the tokenizer's pair encoding"
              : "--task ranking: the dense model's first output must be one score per pair,"
                  + " [batch, 1] or [batch]; it answers rows of "
                  + width);
    }
    if (task == ModelTask.RANKING && Distillation.scoreVariance(evalTargets) == 0) {
      throw new io.sparserollout.sparsify.SparsifyException(
          "the dense ranker gives every held-out pair the same score ("
              + evalTargets.stream().mapToInt(rows -> rows.length).sum()
              + " pairs): nothing to distil against; hold out more pairs (--held-out)");
    }
    if (task == ModelTask.CLASSIFICATION && !logits) {
      throw new io.sparserollout.sparsify.SparsifyException(
          "--task classification: the dense model's first output must be logits [batch,"
              + " classes]; it answers hidden states (an encoder: task embedding)");
    }
    if (in.train().labelled() && (task != ModelTask.EMBEDDING || logits)) {
      throw new io.sparserollout.sparsify.SparsifyException(
          "the dense model is a "
              + (task == ModelTask.RANKING
                  ? "ranker (one score per pair)"
                  : task == ModelTask.CLASSIFICATION
                      ? "classifier (logits as its first output)"
                      : "pooled encoder (embeddings [batch, hidden] as its first output)")
              + ": it is fine-tuned by distilling its outputs; a task loss from --labels is for"
              + " encoders only, not yet for classifiers or rankers");
    }
    return task;
  }

  /**
   * Every floating-point initializer but the frozen lookup tables and batch-norm statistics, and
   * the task head if any.
   */
  private TaskHead trainableTensors() {
    Set<String> frozen = new java.util.HashSet<>(graph.lookupTables());
    frozen.addAll(graph.runningStatistics());
    for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
      if (e.getValue().is_floating_point()
          && e.getValue().numel() > 1
          && !frozen.contains(e.getKey())) {
        e.getValue().requires_grad_(true);
        parameters.add(e.getValue());
        names.add(e.getKey());
      }
    }
    if (!in.train().labelled()) {
      return null;
    }
    TaskHead head =
        new TaskHead(in.train().classes().size(), evalTargets.get(0)[0].length, TASK_HEAD_SEED);
    parameters.add(head.parameter()); // trained and checkpointed, never exported
    return head;
  }

  /** Calibrated once on the pruned start; a resumed run keeps the scales it trained with. */
  private Map<String, Float> activationScales(Checkpoints.State saved) {
    if (saved != null && saved.activationScales() != null) {
      return saved.activationScales();
    }
    writeBack();
    // The whole batches, not this worker's share: every worker must calibrate the same scales.
    List<? extends Batch> batches = qatCalibration;
    Map<String, Float> calibrated =
        QuantizeRun.calibrate(
            student,
            batches.subList(0, Math.min(QAT_CALIBRATION_BATCHES, batches.size())),
            FineTuner.QAT_PERCENTILE,
            threads);
    progress.accept("int8 QAT: " + calibrated.size() + " activation scales calibrated");
    return calibrated;
  }

  void train() {
    double recentLoss = Double.NaN;
    for (int step = first; step <= options.steps(); step++) {
      Phase phase = FineTuner.phaseOf(phases, step);
      if (step == phase.first() && step > 1 && phase.pruned() > 0) {
        masks = Masks.byMagnitude(graph, layers, phase.pruned());
        progress.accept(
            String.format(
                "step %d: pruned to %d:4, held-out fidelity %.4f",
                step - 1, 4 - phase.pruned(), fidelity()));
      }
      FineTuner.setLearningRate(
          optimizer, options.learningRate() * FineTuner.learningRateScale(phase, step));
      try (PointerScope scope = new PointerScope()) {
        Tensor loss = objective.loss(step);
        optimizer.zero_grad();
        loss.backward();
        parallel.sumGradients(parameters);
        torch.clip_grad_norm_(trainable, 1.0, 2.0, false);
        optimizer.step();
        masks.apply();
        double stepLoss = parallel.sum(new double[] {loss.item_double()})[0];
        recentLoss = Double.isNaN(recentLoss) ? stepLoss : 0.9 * recentLoss + 0.1 * stepLoss;
      }
      if (step % options.evalEvery() == 0 || step == options.steps()) {
        measure(step, recentLoss);
      }
      publish(step);
      if (checkpoints != null
          && parallel.leader()
          && step % resume.every() == 0
          && step < options.steps()) {
        checkpoints.save(
            new Checkpoints.State(step, options, initial, List.copyOf(history), scales),
            parameters,
            optimizer);
      }
    }
  }

  private void measure(int step, double recentLoss) {
    double fidelity = fidelity();
    double seconds = (System.nanoTime() - start) / 1e9;
    history.add(new Checkpoint(step, recentLoss, fidelity, seconds));
    lastFidelity = fidelity;
    double eta = seconds / (step - first + 1) * (options.steps() - step);
    progress.accept(
        String.format(
            "step %d/%d: loss %.4f, held-out fidelity %.4f, %.0f s, ETA %.0f s",
            step, options.steps(), recentLoss, fidelity, seconds, eta));
  }

  /**
   * The live progress after {@code step}: the pace of this run's steps so far (from the first,
   * after loading and the starting measurement) gives the rest.
   */
  private void publish(int step) {
    long now = System.nanoTime();
    if (step < first) {
      stepsStarted = now;
    }
    int done = step - first + 1;
    double pace = (now - stepsStarted) / 1e9 / Math.max(done, 1);
    live.accept(
        new StageProgress(
            "finetune",
            step,
            options.steps(),
            lastFidelity,
            (now - start) / 1e9,
            done < 1 ? null : pace * (options.steps() - step)));
  }

  private double fidelity() {
    return Distillation.fidelity(graph, in.evalBatches(), evalTargets);
  }

  /** The trained model, written by worker 0 only (every worker holds the same weights). */
  Report export() {
    Path out = in.out();
    if (!parallel.leader()) {
      return report("(written by worker 0)");
    }
    writeBack();
    if (scales != null) {
      QuantizeRun.exportTrained(
          student,
          scales,
          in.evalBatches().get(0),
          threads,
          "int8-qat percentile=" + FineTuner.QAT_PERCENTILE,
          out);
    } else {
      student.save(out);
    }
    if (checkpoints != null) {
      checkpoints.delete();
    }
    return report(out.toString());
  }

  private Report report(String output) {
    double last = history.isEmpty() ? initial : history.get(history.size() - 1).fidelity();
    return new Report(
        output,
        in.init() != null ? "init" : options.progressive() ? "progressive" : "magnitude",
        options.steps(),
        names.size(),
        masks.size(),
        round(initial),
        round(last),
        history,
        round((System.nanoTime() - start) / 1e9));
  }

  private void writeBack() {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (String name : names) {
        student.setFloats(name, TorchTensors.toFloats(graph.initializers().get(name).detach()));
      }
    }
  }

  private static double round(double value) {
    return Math.round(value * 10000) / 10000.0;
  }
}
