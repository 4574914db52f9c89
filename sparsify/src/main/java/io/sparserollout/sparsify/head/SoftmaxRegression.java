package io.sparserollout.sparsify.head;

import java.util.stream.IntStream;

/**
 * A linear classifier trained by full-batch Adam on cross-entropy with L2, on centred features; the
 * centring is folded into the returned biases, so that {@code logits = W x + b} on the raw
 * features. No sampling and a zero start: the same data gives the same head on a machine with the
 * same number of cores (the gradient's sums are split by core).
 */
public final class SoftmaxRegression {
  /** Row-major weights [classes, features] and biases [classes] over the raw features. */
  public record Weights(float[] weight, float[] bias, int classes, int features) {
    public float[] logits(float[] x) {
      float[] out = new float[classes];
      for (int c = 0; c < classes; c++) {
        double sum = bias[c];
        for (int f = 0; f < features; f++) {
          sum += (double) weight[c * features + f] * x[f];
        }
        out[c] = (float) sum;
      }
      return out;
    }
  }

  private SoftmaxRegression() {}

  public static Weights train(float[][] x, int[] y, int classes, int steps, double l2) {
    int n = x.length;
    int h = x[0].length;
    double[] mean = new double[h];
    double[] scale = new double[h];
    for (float[] row : x) {
      for (int f = 0; f < h; f++) {
        mean[f] += row[f] / (double) n;
      }
    }
    // Centred only, not scaled: dividing by a dimension's spread would give the head large weights
    // on the quietest dimensions, where pruning and int8 noise then move the logits most.
    java.util.Arrays.fill(scale, 1);
    double[][] z = new double[n][h];
    for (int i = 0; i < n; i++) {
      for (int f = 0; f < h; f++) {
        z[i][f] = (x[i][f] - mean[f]) / scale[f];
      }
    }
    int params = classes * (h + 1); // per class: h weights then the bias
    double[] w = new double[params];
    double[] m = new double[params];
    double[] v = new double[params];
    double rate = 0.05;
    for (int step = 1; step <= steps; step++) {
      double[] grad = gradient(z, y, w, classes, h);
      for (int p = 0; p < params; p++) {
        boolean bias = p % (h + 1) == h;
        double g = grad[p] / n + (bias ? 0 : l2 * w[p]);
        m[p] = 0.9 * m[p] + 0.1 * g;
        v[p] = 0.999 * v[p] + 0.001 * g * g;
        double mHat = m[p] / (1 - Math.pow(0.9, step));
        double vHat = v[p] / (1 - Math.pow(0.999, step));
        w[p] -= rate * mHat / (Math.sqrt(vHat) + 1e-8);
      }
    }
    float[] weight = new float[classes * h];
    float[] bias = new float[classes];
    for (int c = 0; c < classes; c++) {
      double b = w[c * (h + 1) + h];
      for (int f = 0; f < h; f++) {
        double wf = w[c * (h + 1) + f] / scale[f];
        weight[c * h + f] = (float) wf;
        b -= wf * mean[f];
      }
      bias[c] = (float) b;
    }
    return new Weights(weight, bias, classes, h);
  }

  /** Summed cross-entropy gradient over all rows, rows split across the cores. */
  private static double[] gradient(double[][] z, int[] y, double[] w, int classes, int h) {
    return IntStream.range(0, z.length)
        .parallel()
        .collect(
            () -> new double[classes * (h + 1)],
            (acc, i) -> {
              double[] logits = new double[classes];
              double max = Double.NEGATIVE_INFINITY;
              for (int c = 0; c < classes; c++) {
                double s = w[c * (h + 1) + h];
                for (int f = 0; f < h; f++) {
                  s += w[c * (h + 1) + f] * z[i][f];
                }
                logits[c] = s;
                max = Math.max(max, s);
              }
              double total = 0;
              for (int c = 0; c < classes; c++) {
                logits[c] = Math.exp(logits[c] - max);
                total += logits[c];
              }
              for (int c = 0; c < classes; c++) {
                double d = logits[c] / total - (y[i] == c ? 1 : 0);
                for (int f = 0; f < h; f++) {
                  acc[c * (h + 1) + f] += d * z[i][f];
                }
                acc[c * (h + 1) + h] += d;
              }
            },
            (a, b) -> {
              for (int p = 0; p < a.length; p++) {
                a[p] += b[p];
              }
            });
  }
}
