package io.sparserollout.sparsify.text;

import io.sparserollout.sparsify.SparsifyException;

/** Helpers for activations captured from a text model. */
public final class Activations {
  private Activations() {}

  /**
   * The activation's rows [tokens, k], without the padding positions of [batch, seq, k]; of tensor
   * inputs, every row (they carry no padding mask).
   */
  public static float[] realTokenRows(OrtModel.FloatTensor x, Batch sample, int k) {
    long[] shape = x.shape();
    if (shape[shape.length - 1] != k) {
      throw new SparsifyException(
          "activation has last dimension " + shape[shape.length - 1] + ", weight expects " + k);
    }
    if (!(sample instanceof TokenBatch batch) || shape.length != 3 || shape[1] != batch.length()) {
      return x.data(); // [batch, k]: every row is real
    }
    float[] rows = new float[batch.tokens() * k];
    int at = 0;
    for (int t = 0; t < batch.size() * batch.length(); t++) {
      if (batch.attentionMask()[t] != 0) {
        System.arraycopy(x.data(), t * k, rows, at, k);
        at += k;
      }
    }
    return rows;
  }
}
