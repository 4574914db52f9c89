package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.OptimizerParamGroupVector;
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
   * What to fine-tune: from {@code init} (a pruned model whose zeros are kept), or from the dense
   * weights when {@code init} is null, pruning the layers {@code finder} picks.
   */
  public record Inputs(
      Path dense,
      Path init,
      LayerFinder finder,
      TrainingData train,
      List<? extends Batch> evalBatches,
      Path out,
      ModelTask task) {

    /**
     * Of an encoder or a classifier, told apart by the output they answer with ({@code task} null);
     * a ranker's samples are pairs, so its task is said.
     */
    public Inputs(
        Path dense,
        Path init,
        LayerFinder finder,
        TrainingData train,
        List<? extends Batch> evalBatches,
        Path out) {
      this(dense, init, finder, train, evalBatches, out, null);
    }
  }

  /** How long a worker waits for the others, at the rendezvous and at every exchange. */
  static final Duration WORKER_TIMEOUT = Duration.ofMinutes(10);

  public static Report run(
      Inputs in, Options options, Resume resume, int threads, Consumer<String> progress) {
    return run(in, options, resume, threads, progress, DataParallel.Worker.SINGLE);
  }

  /**
   * One worker of a data-parallel run ({@link DataParallel}): every worker is started alike, with
   * its rank; each trains on its share of every batch of {@code --batch-size} sentences.
   */
  public static Report run(
      Inputs all,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> log,
      DataParallel.Worker worker) {
    return run(all, options, resume, threads, log, live -> {}, worker);
  }

  /** As above, telling {@code live} the progress after every step. */
  public static Report run(
      Inputs all,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> log,
      Consumer<io.sparserollout.stage.StageProgress> live,
      DataParallel.Worker worker) {
    Consumer<String> progress =
        worker.workers() == 1 ? log : line -> log.accept("worker " + worker.rank() + ": " + line);
    try (DataParallel parallel = DataParallel.join(worker, WORKER_TIMEOUT)) {
      Inputs in =
          new Inputs(
              all.dense(),
              all.init(),
              all.finder(),
              parallel.share(all.train()),
              all.evalBatches(),
              all.out(),
              all.task());
      Report report =
          train(in, options, resume, threads, progress, live, parallel, all.train().batches());
      if (worker.workers() > 1) {
        progress.accept(parallel.exchangeSummary());
      }
      return report;
    }
  }

  private static Report train(
      Inputs in,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> progress,
      Consumer<io.sparserollout.stage.StageProgress> live,
      DataParallel parallel,
      List<? extends Batch> qatCalibration) {
    if (in.init() != null && options.progressive()) {
      throw new SparsifyException(
          "a progressive schedule prunes the dense weights itself (1:4, then 2:4); drop --init");
    }
    if (!options.distillation() && !in.train().labelled()) {
      throw new SparsifyException(
          "without distillation the only loss is the task loss, which needs labels: give --labels"
              + " (one per training sentence) or keep distillation on");
    }
    torch.set_num_threads(threads);
    long start = System.nanoTime();
    OnnxModel student = OnnxModel.load(in.init() != null ? in.init() : in.dense());
    List<PrunableLayer> layers = in.finder().find(student).prunable();
    try (TorchGraph graph = TorchGraph.of(student);
        Teacher teacher =
            Teacher.open(
                in.dense(),
                Distillation.distilled(options, layers, graph),
                in.train().batches(),
                threads)) {
      TrainingSession session =
          TrainingSession.setUp(
              new TrainingSession.Settings(
                  in, options, resume, threads, progress, live, start, parallel, qatCalibration),
              student,
              layers,
              graph,
              teacher);
      session.train();
      Report report;
      try {
        report = session.export();
      } catch (RuntimeException e) {
        parallel.confirm(false, "writing the output");
        throw e;
      }
      parallel.confirm(true, "writing the output (worker 0 writes it)");
      return report;
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

  static Phase phaseOf(List<Phase> phases, int step) {
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
}
