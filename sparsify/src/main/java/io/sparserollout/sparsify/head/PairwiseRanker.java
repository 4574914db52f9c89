package io.sparserollout.sparsify.head;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A linear scorer trained by full-batch Adam on the pairwise logistic loss (RankNet): for every two
 * documents of a query with different grades, the better one should score higher. The weights start
 * at 1 (the cosine the features sum to) and L2 pulls them back there, so the scorer stays close to
 * what the encoder was trained for. The bias shifts every score of a query alike and changes no
 * order: it stays 0. Deterministic for the same data and number of cores.
 */
public final class PairwiseRanker {
  /** Weights [features] and the bias over the features. */
  public record Weights(float[] weight, float bias) {
    public double score(float[] x) {
      double sum = bias;
      for (int f = 0; f < weight.length; f++) {
        sum += (double) weight[f] * x[f];
      }
      return sum;
    }
  }

  private PairwiseRanker() {}

  /** The untrained scorer: the cosine of query and document. */
  public static Weights cosine(int features) {
    float[] ones = new float[features];
    java.util.Arrays.fill(ones, 1f);
    return new Weights(ones, 0f);
  }

  /** Every (better, worse) pair of the same query, by grade. */
  public static List<int[]> orderedPairs(List<List<Integer>> groups, int[] grades) {
    List<int[]> pairs = new ArrayList<>();
    for (List<Integer> group : groups) {
      for (int i : group) {
        for (int j : group) {
          if (grades[i] > grades[j]) {
            pairs.add(new int[] {i, j});
          }
        }
      }
    }
    return pairs;
  }

  public static Weights train(float[][] x, List<int[]> pairs, int steps, double l2) {
    int h = x[0].length;
    double[] w = new double[h];
    java.util.Arrays.fill(w, 1);
    double[] m = new double[h];
    double[] v = new double[h];
    double rate = 0.05;
    for (int step = 1; step <= steps; step++) {
      double[] grad = gradient(x, pairs, w);
      for (int f = 0; f < h; f++) {
        double g = grad[f] / pairs.size() + l2 * (w[f] - 1);
        m[f] = 0.9 * m[f] + 0.1 * g;
        v[f] = 0.999 * v[f] + 0.001 * g * g;
        double mHat = m[f] / (1 - Math.pow(0.9, step));
        double vHat = v[f] / (1 - Math.pow(0.999, step));
        w[f] -= rate * mHat / (Math.sqrt(vHat) + 1e-8);
      }
    }
    float[] weight = new float[h];
    for (int f = 0; f < h; f++) {
      weight[f] = (float) w[f];
    }
    return new Weights(weight, 0f);
  }

  /** Share of the pairs the scorer orders as their grades (ties count as wrong). */
  public static double pairAccuracy(Weights head, float[][] x, List<int[]> pairs) {
    long right = pairs.stream().filter(p -> head.score(x[p[0]]) > head.score(x[p[1]])).count();
    return (double) right / Math.max(pairs.size(), 1);
  }

  /** Summed gradient of log(1 + exp(-(s_better - s_worse))), pairs split across the cores. */
  private static double[] gradient(float[][] x, List<int[]> pairs, double[] w) {
    int h = w.length;
    return IntStream.range(0, pairs.size())
        .parallel()
        .collect(
            () -> new double[h],
            (acc, p) -> {
              float[] better = x[pairs.get(p)[0]];
              float[] worse = x[pairs.get(p)[1]];
              double s = 0;
              for (int f = 0; f < h; f++) {
                s += w[f] * (better[f] - worse[f]);
              }
              double d = -1 / (1 + Math.exp(s));
              for (int f = 0; f < h; f++) {
                acc[f] += d * (better[f] - worse[f]);
              }
            },
            (a, b) -> {
              for (int f = 0; f < h; f++) {
                a[f] += b[f];
              }
            });
  }
}
