package io.sparserollout.sparsify.eval;

/** Small vector arithmetic over embeddings, in double precision. */
final class Vectors {
  private Vectors() {}

  static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) a[i] * b[i];
    }
    return sum;
  }

  static double cosine(float[] a, float[] b) {
    double norms = Math.sqrt(dot(a, a) * dot(b, b));
    return norms == 0 ? 0 : dot(a, b) / norms;
  }

  /** Each row scaled to unit length, so that a dot product is a cosine. */
  static float[][] unit(float[][] vectors) {
    float[][] out = new float[vectors.length][];
    for (int i = 0; i < vectors.length; i++) {
      double norm = Math.sqrt(dot(vectors[i], vectors[i]));
      out[i] = new float[vectors[i].length];
      for (int d = 0; d < vectors[i].length; d++) {
        out[i][d] = (float) (vectors[i][d] / Math.max(norm, 1e-12));
      }
    }
    return out;
  }
}
