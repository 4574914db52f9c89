package io.sparserollout.sparsify.eval;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.EvaluationResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a ranker's scores are compared on, one query's documents at a time (its group): against the
 * dense model's scores, the same first document (top-1 agreement), the overlap of the first k and
 * the cosine of the centred scores (a shift of all of a query's scores changes no order); against
 * graded labels, NDCG@k, PNR and whether the first document has the query's best grade.
 */
public final class RankingMetrics {
  private static final int TOP_K = 5;

  private RankingMetrics() {}

  static EvaluationResult.Fidelity fidelity(
      float[][] dense, float[][] candidate, List<List<Integer>> groups) {
    List<Double> cosines = new ArrayList<>();
    double top1 = 0;
    double overlap = 0;
    int compared = 0;
    for (List<Integer> group : ranked(groups)) {
      float[] d = column(dense, group);
      float[] c = column(candidate, group);
      int k = Math.min(TOP_K, d.length - 1);
      int[] dTop = top(d, k);
      int[] cTop = top(c, k);
      top1 += dTop[0] == cTop[0] ? 1 : 0;
      int shared = 0;
      for (int x : cTop) {
        for (int y : dTop) {
          shared += x == y ? 1 : 0;
        }
      }
      overlap += (double) shared / k;
      cosines.add(centredCosine(d, c));
      compared++;
    }
    double[] sorted = cosines.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new EvaluationResult.Fidelity(
        Arrays.stream(sorted).average().orElse(0),
        sorted[0],
        sorted[(int) Math.floor(0.05 * (sorted.length - 1))],
        top1 / compared,
        overlap / compared);
  }

  /**
   * Against graded labels (non-negative integers, higher is more relevant): accuracy is the share
   * of queries whose first document has the query's best grade; NDCG@k with gain 2^grade - 1 over
   * queries with a relevant document; PNR is pairs of a query's documents of different grades
   * ordered as their grades over those ordered against them (at least 1), summed over queries; a
   * tie in score counts as neither.
   */
  static EvaluationResult.Scores scores(
      float[][] scores, List<List<Integer>> groups, int[] grades, int k) {
    double accurate = 0;
    int graded = 0;
    double ndcg = 0;
    int relevantQueries = 0;
    long concordant = 0;
    long discordant = 0;
    for (List<Integer> group : ranked(groups)) {
      float[] s = column(scores, group);
      int[] g = group.stream().mapToInt(i -> grades[i]).toArray();
      int best = Arrays.stream(g).max().orElse(0);
      if (Arrays.stream(g).anyMatch(x -> x != best)) {
        accurate += g[top(s, 1)[0]] == best ? 1 : 0;
        graded++;
      }
      if (best > 0) {
        ndcg += ndcg(s, g, k);
        relevantQueries++;
      }
      for (int i = 0; i < g.length; i++) {
        for (int j = 0; j < g.length; j++) {
          if (g[i] > g[j] && s[i] != s[j]) {
            if (s[i] > s[j]) {
              concordant++;
            } else {
              discordant++;
            }
          }
        }
      }
    }
    return new EvaluationResult.Scores(
        graded == 0 ? 0 : accurate / graded,
        relevantQueries == 0 ? 0 : ndcg / relevantQueries,
        (double) concordant / Math.max(discordant, 1));
  }

  /** Graded labels: a non-negative integer per pair, refused by line otherwise. */
  public static int[] grades(List<String> labels, String role) {
    int[] grades = new int[labels.size()];
    for (int i = 0; i < grades.length; i++) {
      try {
        grades[i] = Integer.parseInt(labels.get(i).strip());
      } catch (NumberFormatException e) {
        grades[i] = -1;
      }
      if (grades[i] < 0) {
        throw new SparsifyException(
            role
                + " label "
                + (i + 1)
                + " is "
                + labels.get(i)
                + ": a ranker's labels are graded relevance, a non-negative integer per pair");
      }
    }
    return grades;
  }

  private static double ndcg(float[] s, int[] g, int k) {
    int[] order = top(s, Math.min(k, s.length));
    double dcg = 0;
    for (int r = 0; r < order.length; r++) {
      dcg += (Math.pow(2, g[order[r]]) - 1) / log2(r + 2);
    }
    int[] ideal = Arrays.stream(g).boxed().sorted((a, b) -> b - a).mapToInt(x -> x).toArray();
    double idcg = 0;
    for (int r = 0; r < order.length; r++) {
      idcg += (Math.pow(2, ideal[r]) - 1) / log2(r + 2);
    }
    return dcg / idcg;
  }

  /** The groups with at least two documents: a query with one has no order to compare. */
  private static List<List<Integer>> ranked(List<List<Integer>> groups) {
    List<List<Integer>> ranked = groups.stream().filter(g -> g.size() >= 2).toList();
    if (ranked.isEmpty()) {
      throw new SparsifyException(
          "no query has two documents or more: a ranker is compared on the order of a query's"
              + " documents (pairs sharing a query's text)");
    }
    return ranked;
  }

  private static float[] column(float[][] rows, List<Integer> group) {
    float[] column = new float[group.size()];
    for (int i = 0; i < column.length; i++) {
      column[i] = rows[group.get(i)][0];
    }
    return column;
  }

  private static int[] top(float[] values, int k) {
    return ClassifierMetrics.top(values, k);
  }

  /** Cosine of the two score vectors less their means; 1 when both are flat, 0 when one is. */
  private static double centredCosine(float[] a, float[] b) {
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < a.length; i++) {
      ma += a[i] / (double) a.length;
      mb += b[i] / (double) b.length;
    }
    double dot = 0;
    double a2 = 0;
    double b2 = 0;
    double aSquares = 0;
    double bSquares = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (a[i] - ma) * (b[i] - mb);
      a2 += (a[i] - ma) * (a[i] - ma);
      b2 += (b[i] - mb) * (b[i] - mb);
      aSquares += (double) a[i] * a[i];
      bSquares += (double) b[i] * b[i];
    }
    // Flat within rounding: the mean of equal floats need not equal them exactly.
    boolean flatA = a2 <= 1e-12 * aSquares;
    boolean flatB = b2 <= 1e-12 * bSquares;
    if (flatA || flatB) {
      return flatA == flatB ? 1 : 0;
    }
    return dot / Math.sqrt(a2 * b2);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
