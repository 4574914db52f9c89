package io.sparserollout.sparsify.prune;

/**
 * SparseGPT (Frantar and Alistarh, 2023) for the 2:4 pattern on one layer: columns (reduction
 * indices) are pruned left to right; at the start of every group of 4 the 2 weights with the least
 * saliency w^2 / [H^-1]_jj^2 are chosen per row, and each pruned weight's error is spread over the
 * not-yet-pruned columns through the inverse Hessian (optimal brain surgeon update).
 */
public final class SparseGpt {
  private static final int BLOCK = 128;
  private static final double DAMPING = 0.01;

  private SparseGpt() {}

  /**
   * Prunes {@code w} [rows, k] (row-major, one row per output) in place.
   *
   * @param hessian sum of x x^T over the calibration inputs, [k, k]; modified
   */
  public static void prune(float[] w, int rows, int k, double[] hessian) {
    double meanDiagonal = 0;
    for (int j = 0; j < k; j++) {
      if (hessian[j * k + j] == 0) {
        // An input that was always zero: its weights cannot matter; drop them.
        hessian[j * k + j] = 1;
        for (int r = 0; r < rows; r++) {
          w[r * k + j] = 0;
        }
      }
      meanDiagonal += hessian[j * k + j] / k;
    }
    for (int j = 0; j < k; j++) {
      hessian[j * k + j] += DAMPING * meanDiagonal;
    }
    double[] hinv = Torch.upperCholeskyOfInverse(hessian, k);

    for (int start = 0; start < k; start += BLOCK) {
      int end = Math.min(start + BLOCK, k);
      int count = end - start;
      float[] block = new float[rows * count];
      float[] errors = new float[rows * count];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(w, r * k + start, block, r * count, count);
      }
      boolean[] pruned = new boolean[rows * count];
      for (int i = 0; i < count; i++) {
        int col = start + i;
        if (i % TwoFour.GROUP == 0) {
          choosePruned(block, pruned, rows, count, i, hinv, k, col);
        }
        double d = hinv[col * k + col];
        for (int r = 0; r < rows; r++) {
          int at = r * count + i;
          float value = block[at];
          float kept = pruned[at] ? 0f : value;
          float error = (float) ((value - kept) / d);
          block[at] = kept;
          errors[at] = error;
          if (error != 0f) {
            for (int j = i + 1; j < count; j++) {
              block[r * count + j] -= (float) (error * hinv[col * k + start + j]);
            }
          }
        }
      }
      for (int r = 0; r < rows; r++) {
        System.arraycopy(block, r * count, w, r * k + start, count);
      }
      if (end < k) {
        propagate(w, errors, hinv, rows, k, start, end);
      }
    }
  }

  /** Marks, per row, the 2 of the 4 columns from {@code i} with the least saliency. */
  private static void choosePruned(
      float[] block, boolean[] pruned, int rows, int count, int i, double[] hinv, int k, int col) {
    double[] saliency = new double[TwoFour.GROUP];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < TwoFour.GROUP; j++) {
        double d = hinv[(col + j) * k + col + j];
        double v = block[r * count + i + j];
        saliency[j] = v * v / (d * d);
      }
      for (int n = 0; n < TwoFour.GROUP - TwoFour.KEEP; n++) {
        int least = -1;
        for (int j = 0; j < TwoFour.GROUP; j++) {
          if (!pruned[r * count + i + j] && (least < 0 || saliency[j] < saliency[least])) {
            least = j;
          }
        }
        pruned[r * count + i + least] = true;
      }
    }
  }

  /** w[:, end:] -= errors[:, start:end] x hinv[start:end, end:]. */
  private static void propagate(
      float[] w, float[] errors, double[] hinv, int rows, int k, int start, int end) {
    int count = end - start;
    int rest = k - end;
    float[] hslice = new float[count * rest];
    for (int i = 0; i < count; i++) {
      for (int j = 0; j < rest; j++) {
        hslice[i * rest + j] = (float) hinv[(start + i) * k + end + j];
      }
    }
    float[] tail = new float[rows * rest];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(w, r * k + end, tail, r * rest, rest);
    }
    Torch.subtractProduct(tail, errors, hslice, rows, count, rest);
    for (int r = 0; r < rows; r++) {
      System.arraycopy(tail, r * rest, w, r * k + end, rest);
    }
  }
}
