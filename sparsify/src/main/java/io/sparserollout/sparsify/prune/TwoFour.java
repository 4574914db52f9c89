package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.onnx.PrunableLayer;

/** The 2:4 pattern along a layer's reduction axis: pure array arithmetic. */
public final class TwoFour {
  public static final int GROUP = 4;
  public static final int KEEP = 2;

  private TwoFour() {}

  /** Zeroes, in every group of 4 along K, the 2 weights with the lowest score. */
  public static void pruneByScore(float[] weights, float[] scores, PrunableLayer layer) {
    pruneByScore(weights, scores, layer, GROUP - KEEP);
  }

  /**
   * Zeroes, in every group of 4 along K, the {@code pruned} weights with the lowest score: 1 gives
   * the 1:4 step of a progressive schedule, 2 gives 2:4.
   */
  public static void pruneByScore(
      float[] weights, float[] scores, PrunableLayer layer, int pruned) {
    int rows = layer.rows();
    int k = layer.reduction();
    int[] idx = new int[GROUP];
    for (int row = 0; row < rows; row++) {
      for (int g = 0; g < k; g += GROUP) {
        for (int j = 0; j < GROUP; j++) {
          idx[j] = layer.index(row, g + j);
        }
        // Two smallest of four: sort the 4 indices by score (insertion sort, stable).
        for (int a = 1; a < GROUP; a++) {
          int cur = idx[a];
          int b = a - 1;
          while (b >= 0 && scores[idx[b]] > scores[cur]) {
            idx[b + 1] = idx[b];
            b--;
          }
          idx[b + 1] = cur;
        }
        for (int j = 0; j < pruned; j++) {
          weights[idx[j]] = 0f;
        }
      }
    }
  }

  /** Groups along K holding more than 2 non-zeros; 0 means the layer satisfies 2:4. */
  public static long violatingGroups(float[] weights, PrunableLayer layer) {
    if (layer.reduction() % GROUP != 0) {
      return Long.MAX_VALUE;
    }
    long violations = 0;
    for (int row = 0; row < layer.rows(); row++) {
      for (int g = 0; g < layer.reduction(); g += GROUP) {
        int nonZero = 0;
        for (int j = 0; j < GROUP; j++) {
          if (weights[layer.index(row, g + j)] != 0f) {
            nonZero++;
          }
        }
        if (nonZero > KEEP) {
          violations++;
        }
      }
    }
    return violations;
  }

  public static double zeroFraction(float[] weights) {
    long zeros = 0;
    for (float w : weights) {
      if (w == 0f) {
        zeros++;
      }
    }
    return weights.length == 0 ? 0 : (double) zeros / weights.length;
  }
}
