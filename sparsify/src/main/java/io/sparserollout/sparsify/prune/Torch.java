package io.sparserollout.sparsify.prune;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The few libtorch (BLAS/LAPACK) operations the pruning math needs, on Java arrays. */
final class Torch {
  static {
    // One thread was twice as fast as two on the 2-core machines (measured), and ONNX
    // Runtime runs between the torch calls anyway.
    torch.set_num_threads(1);
  }

  private Torch() {}

  /** Sum of x^T x over the rows of x [rows, k], added into {@code accumulator} [k, k]. */
  static void addGram(double[] accumulator, float[] x, int rows, int k) {
    try (Tensor t = Tensor.create(x, rows, k);
        Tensor gram = torch.mm(t.t(), t);
        Tensor asDouble = gram.to(torch.ScalarType.Double)) {
      double[] g = doubles(asDouble);
      for (int i = 0; i < g.length; i++) {
        accumulator[i] += g[i];
      }
    }
  }

  /** Upper Cholesky factor U of H^-1 (H^-1 = U^T U), for H symmetric positive definite [k, k]. */
  static double[] upperCholeskyOfInverse(double[] h, int k) {
    try (Tensor ht = Tensor.create(h, k, k);
        Tensor lower = torch.linalg_cholesky(ht);
        Tensor inverse = torch.cholesky_inverse(lower);
        Tensor upper = torch.linalg_cholesky(inverse, true)) {
      return doubles(upper);
    }
  }

  /** c[rows, n] -= a[rows, m] x b[m, n]; b given as a row-major slice of a wider matrix. */
  static void subtractProduct(float[] c, float[] a, float[] b, int rows, int m, int n) {
    try (Tensor at = Tensor.create(a, rows, m);
        Tensor bt = Tensor.create(b, m, n);
        Tensor product = torch.mm(at, bt)) {
      float[] p = floats(product);
      for (int i = 0; i < p.length; i++) {
        c[i] -= p[i];
      }
    }
  }

  private static double[] doubles(Tensor t) {
    try (Tensor c = t.contiguous()) {
      DoubleBuffer buffer = c.createBuffer();
      double[] out = new double[buffer.remaining()];
      buffer.get(out);
      return out;
    }
  }

  private static float[] floats(Tensor t) {
    try (Tensor c = t.contiguous()) {
      FloatBuffer buffer = c.createBuffer();
      float[] out = new float[buffer.remaining()];
      buffer.get(out);
      return out;
    }
  }
}
