package io.sparserollout.sparsify.eval;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.stage.CapturedData;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the dense and candidate models on the same batches and compares their outputs: pooled
 * embeddings, or a classifier's logits.
 */
public final class Evaluator {
  private static final int TOP_K = 5;

  private Evaluator() {}

  public static EvaluationResult evaluate(
      Path dense, Path candidate, List<? extends Batch> batches, int threads) {
    return evaluate(dense, candidate, batches, null, TOP_K, threads);
  }

  /** With labels (one per sentence, or null), also accuracy, NDCG@k and PNR of both models. */
  public static EvaluationResult evaluate(
      Path dense,
      Path candidate,
      List<? extends Batch> batches,
      List<String> labels,
      int k,
      int threads) {
    return evaluate(dense, candidate, Map.of(), batches, labels, k, threads);
  }

  /** Also each extra variant (name to model) against the same dense outputs. */
  public static EvaluationResult evaluate(
      Path dense,
      Path candidate,
      Map<String, Path> variants,
      List<? extends Batch> batches,
      List<String> labels,
      int k,
      int threads) {
    return evaluate(
        dense, candidate, variants, List.of(new HeldOut(null, batches, labels, null)), k, threads);
  }

  /**
   * One held-out set: its batches, labels (one per sentence, or null), where captured samples came
   * from (or null) and, of a ranker's pairs, the samples of each query (else null). A null name is
   * the one set of an evaluation without named sets.
   */
  public record HeldOut(
      String name,
      List<? extends Batch> batches,
      List<String> labels,
      CapturedData captured,
      List<List<Integer>> groups) {
    public HeldOut(
        String name, List<? extends Batch> batches, List<String> labels, CapturedData captured) {
      this(name, batches, labels, captured, null);
    }
  }

  /**
   * Every set on the same models, each model loaded once. The top-level fields of the result are
   * the first set's, throughput and latency included; {@code sets} lists named sets.
   */
  public static EvaluationResult evaluate(
      Path dense,
      Path candidate,
      Map<String, Path> variants,
      List<HeldOut> sets,
      int k,
      int threads) {
    return evaluate(dense, candidate, variants, sets, k, threads, ModelTask.EMBEDDING, Map.of());
  }

  /**
   * As above for a model of {@code task}; a classifier's labels are class indices or names of
   * {@code classNames}.
   */
  public static EvaluationResult evaluate(
      Path dense,
      Path candidate,
      Map<String, Path> variants,
      List<HeldOut> sets,
      int k,
      int threads,
      ModelTask task,
      Map<String, Integer> classNames) {
    if (task == ModelTask.TENSOR) {
      return RawOutputEvaluation.evaluate(dense, candidate, variants, sets, threads);
    }
    List<Embeddings> d = embed(dense, sets, threads, task);
    List<Embeddings> c = embed(candidate, sets, threads, task);
    Readout readout = new Readout(task, classNames);
    List<List<EvaluationResult.VariantQuality>> qualities = new ArrayList<>();
    for (int s = 0; s < sets.size(); s++) {
      sameSize(d.get(s), c.get(s), "candidate");
      HeldOut set = sets.get(s);
      if (set.labels() != null && set.labels().size() != d.get(s).vectors.length) {
        throw new SparsifyException(
            set.labels().size()
                + " labels for "
                + d.get(s).vectors.length
                + " sentences"
                + (set.name() == null ? "" : " of set " + set.name())
                + "; give one per line");
      }
      qualities.add(new ArrayList<>());
    }
    variants.forEach(
        (name, model) -> {
          List<Embeddings> v = embed(model, sets, threads, task);
          for (int s = 0; s < sets.size(); s++) {
            sameSize(d.get(s), v.get(s), name);
            HeldOut set = sets.get(s);
            qualities
                .get(s)
                .add(
                    new EvaluationResult.VariantQuality(
                        name,
                        readout.fidelity(d.get(s).vectors, v.get(s).vectors, set),
                        readout.scores(v.get(s).vectors, set, k)));
          }
        });
    List<EvaluationResult.SetQuality> results = new ArrayList<>();
    for (int s = 0; s < sets.size(); s++) {
      HeldOut set = sets.get(s);
      results.add(
          new EvaluationResult.SetQuality(
              set.name(),
              d.get(s).vectors.length,
              readout.fidelity(d.get(s).vectors, c.get(s).vectors, set),
              set.labels() == null
                  ? null
                  : new EvaluationResult.Task(
                      k,
                      readout.scores(d.get(s).vectors, set, k),
                      readout.scores(c.get(s).vectors, set, k)),
              qualities.get(s).isEmpty() ? null : qualities.get(s),
              set.captured()));
    }
    EvaluationResult.SetQuality first = results.get(0);
    return new EvaluationResult(
        first.samples(),
        first.fidelity(),
        first.task(),
        d.get(0).performance,
        c.get(0).performance,
        first.variants(),
        first.captured(),
        first.name() == null ? null : results);
  }

  /** How the task's outputs are compared and scored against labels. */
  private record Readout(ModelTask task, Map<String, Integer> classNames) {
    EvaluationResult.Fidelity fidelity(float[][] dense, float[][] candidate, HeldOut set) {
      return switch (task) {
        case CLASSIFICATION -> ClassifierMetrics.fidelity(dense, candidate);
        case RANKING -> RankingMetrics.fidelity(dense, candidate, groups(set));
        case EMBEDDING -> Evaluator.fidelity(dense, candidate);
        case TENSOR -> throw new IllegalStateException("raw outputs are compared as they stream");
      };
    }

    EvaluationResult.Scores scores(float[][] outputs, HeldOut set, int k) {
      if (set.labels() == null) {
        return null;
      }
      String role = set.name() == null ? "evaluation" : "set " + set.name();
      return switch (task) {
        case CLASSIFICATION ->
            ClassifierMetrics.scores(
                outputs, ClassLabels.indices(set.labels(), outputs[0].length, classNames, role));
        case RANKING ->
            RankingMetrics.scores(
                outputs, groups(set), RankingMetrics.grades(set.labels(), role), k);
        case EMBEDDING -> TaskMetrics.compute(outputs, set.labels(), k);
        case TENSOR -> throw new IllegalStateException("raw outputs have no labels");
      };
    }

    private static List<List<Integer>> groups(HeldOut set) {
      if (set.groups() == null) {
        throw new SparsifyException(
            (set.name() == null ? "the evaluation data" : "set " + set.name())
                + " has no queries: a ranker is evaluated on query<TAB>document pairs from a"
                + " file, not on captured samples");
      }
      return set.groups();
    }
  }

  private static void sameSize(Embeddings dense, Embeddings other, String name) {
    if (dense.vectors[0].length != other.vectors[0].length) {
      throw new SparsifyException(
          "the models disagree on output size: dense "
              + dense.vectors[0].length
              + ", "
              + name
              + " "
              + other.vectors[0].length);
    }
  }

  private record Embeddings(float[][] vectors, EvaluationResult.Performance performance) {}

  /** The model's outputs on every set, timed per set, after one warm-up batch. */
  private static List<Embeddings> embed(
      Path model, List<HeldOut> sets, int threads, ModelTask task) {
    try (OrtModel ort = OrtModel.open(model, threads)) {
      ort.outputs(sets.get(0).batches().get(0), task); // warm-up: first run allocates and tunes
      List<Embeddings> all = new ArrayList<>();
      for (HeldOut set : sets) {
        all.add(embed(ort, set.batches(), threads, task));
      }
      return all;
    }
  }

  private static Embeddings embed(
      OrtModel ort, List<? extends Batch> batches, int threads, ModelTask task) {
    int total = batches.stream().mapToInt(Batch::size).sum();
    float[][] vectors = new float[total][];
    double[] latencies = new double[batches.size()];
    int at = 0;
    long started = System.nanoTime();
    for (int b = 0; b < batches.size(); b++) {
      long t0 = System.nanoTime();
      for (float[] v : ort.outputs(batches.get(b), task)) {
        vectors[at++] = v;
      }
      latencies[b] = (System.nanoTime() - t0) / 1e6;
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    Arrays.sort(latencies);
    return new Embeddings(
        vectors,
        new EvaluationResult.Performance(
            batches.get(0).size(), total / seconds, latencies[latencies.length / 2], threads));
  }

  /** Mean, least and 5th-percentile cosine of each row to its dense row; nothing else. */
  static EvaluationResult.Fidelity cosines(float[][] dense, float[][] candidate) {
    int n = dense.length;
    double[] cosines = new double[n];
    for (int i = 0; i < n; i++) {
      cosines[i] = Vectors.cosine(dense[i], candidate[i]);
    }
    double[] sorted = cosines.clone();
    Arrays.sort(sorted);
    return new EvaluationResult.Fidelity(
        Arrays.stream(cosines).average().orElse(0),
        sorted[0],
        sorted[(int) Math.floor(0.05 * (n - 1))],
        null,
        null);
  }

  static EvaluationResult.Fidelity fidelity(float[][] dense, float[][] candidate) {
    int n = dense.length;
    EvaluationResult.Fidelity cosines = cosines(dense, candidate);
    double top1 = 0;
    double top5 = 0;
    if (n > 1) {
      int k = Math.min(TOP_K, n - 1);
      float[][] dn = Vectors.unit(dense);
      float[][] cn = Vectors.unit(candidate);
      for (int i = 0; i < n; i++) {
        int[] dTop = nearest(dn, i, k);
        int[] cTop = nearest(cn, i, k);
        top1 += dTop[0] == cTop[0] ? 1 : 0;
        Set<Integer> shared = new HashSet<>();
        for (int x : dTop) {
          shared.add(x);
        }
        int overlap = 0;
        for (int x : cTop) {
          overlap += shared.contains(x) ? 1 : 0;
        }
        top5 += (double) overlap / k;
      }
      top1 /= n;
      top5 /= n;
    }
    return new EvaluationResult.Fidelity(
        cosines.cosineMean(), cosines.cosineMin(), cosines.cosineP5(), top1, top5);
  }

  /** Indices of the k most similar other rows to row i, most similar first. */
  private static int[] nearest(float[][] unit, int i, int k) {
    int n = unit.length;
    double[] sims = new double[n];
    Integer[] order = new Integer[n - 1];
    int at = 0;
    for (int j = 0; j < n; j++) {
      if (j != i) {
        sims[j] = Vectors.dot(unit[i], unit[j]);
        order[at++] = j;
      }
    }
    Arrays.sort(order, (a, b) -> Double.compare(sims[b], sims[a]));
    int[] top = new int[k];
    for (int j = 0; j < k; j++) {
      top[j] = order[j];
    }
    return top;
  }
}
