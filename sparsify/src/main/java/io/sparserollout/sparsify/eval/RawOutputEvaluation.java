package io.sparserollout.sparsify.eval;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.stage.EvaluationResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Task tensor: every model runs each batch in turn and only per-sample numbers are kept (a
 * detector's maps or a recognizer's probabilities may be megabytes a sample), so the models are
 * open together rather than one after the other as for the other tasks.
 */
final class RawOutputEvaluation {
  private static final String CANDIDATE = "candidate";

  private RawOutputEvaluation() {}

  static EvaluationResult evaluate(
      Path dense,
      Path candidate,
      Map<String, Path> variants,
      List<Evaluator.HeldOut> sets,
      int threads) {
    for (Evaluator.HeldOut set : sets) {
      if (set.labels() != null) {
        throw new SparsifyException(
            (set.name() == null ? "the evaluation data" : "set " + set.name())
                + ": task tensor compares raw outputs, which have no labels to score");
      }
    }
    List<OrtModel> open = new ArrayList<>();
    try {
      OrtModel reference = OrtModel.open(dense, threads);
      open.add(reference);
      // The candidate first, then each variant, all against the same dense outputs.
      List<String> names = new ArrayList<>();
      names.add(CANDIDATE);
      names.addAll(variants.keySet());
      List<OrtModel> models = new ArrayList<>();
      for (Path model : concat(candidate, variants.values())) {
        models.add(OrtModel.open(model, threads));
        open.add(models.get(models.size() - 1));
      }
      // Warm-up: the first run allocates and tunes.
      Batch first = sets.get(0).batches().get(0);
      for (OrtModel model : open) {
        model.rawOutputs(first);
      }
      List<EvaluationResult.SetQuality> results = new ArrayList<>();
      EvaluationResult.Performance densePerformance = null;
      EvaluationResult.Performance candidatePerformance = null;
      for (Evaluator.HeldOut set : sets) {
        List<RawOutputMetrics> metrics = new ArrayList<>();
        List<Timing> timings = new ArrayList<>();
        for (String name : names) {
          metrics.add(new RawOutputMetrics(name));
          timings.add(new Timing(set.batches().size()));
        }
        Timing denseTiming = new Timing(set.batches().size());
        for (Batch batch : set.batches()) {
          long started = System.nanoTime();
          var expected = reference.rawOutputs(batch);
          denseTiming.add(batch.size(), System.nanoTime() - started);
          for (int m = 0; m < models.size(); m++) {
            long t0 = System.nanoTime();
            var actual = models.get(m).rawOutputs(batch);
            timings.get(m).add(batch.size(), System.nanoTime() - t0);
            metrics.get(m).add(expected, actual, batch.size());
          }
        }
        List<EvaluationResult.VariantQuality> qualities = new ArrayList<>();
        for (int m = 1; m < names.size(); m++) {
          qualities.add(
              new EvaluationResult.VariantQuality(names.get(m), metrics.get(m).fidelity(), null));
        }
        results.add(
            new EvaluationResult.SetQuality(
                set.name(),
                metrics.get(0).samples(),
                metrics.get(0).fidelity(),
                null,
                qualities.isEmpty() ? null : qualities,
                set.captured()));
        if (densePerformance == null) {
          int size = set.batches().get(0).size();
          densePerformance = denseTiming.performance(size, threads);
          candidatePerformance = timings.get(0).performance(size, threads);
        }
      }
      EvaluationResult.SetQuality firstSet = results.get(0);
      return new EvaluationResult(
          firstSet.samples(),
          firstSet.fidelity(),
          null,
          densePerformance,
          candidatePerformance,
          firstSet.variants(),
          firstSet.captured(),
          firstSet.name() == null ? null : results);
    } finally {
      open.forEach(OrtModel::close);
    }
  }

  private static List<Path> concat(Path first, java.util.Collection<Path> rest) {
    List<Path> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all;
  }

  /** One model's batch latencies on a set. */
  private static final class Timing {
    private final double[] latenciesMs;
    private int batches;
    private int samples;
    private long nanos;

    Timing(int capacity) {
      latenciesMs = new double[capacity];
    }

    void add(int size, long elapsed) {
      latenciesMs[batches++] = elapsed / 1e6;
      samples += size;
      nanos += elapsed;
    }

    EvaluationResult.Performance performance(int batchSize, int threads) {
      double[] sorted = Arrays.copyOf(latenciesMs, batches);
      Arrays.sort(sorted);
      return new EvaluationResult.Performance(
          batchSize, samples / (nanos / 1e9), sorted[sorted.length / 2], threads);
    }
  }
}
