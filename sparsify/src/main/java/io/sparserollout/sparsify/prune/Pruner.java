package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.util.List;

/** Rewrites the weights of the given layers of a model to the 2:4 pattern. */
public interface Pruner {
  String method();

  void prune(OnnxModel model, List<PrunableLayer> layers);

  /** The layer's weights as [rows, k] row-major, one row per output position. */
  static float[] rows(float[] weights, PrunableLayer layer) {
    int k = layer.reduction();
    float[] out = new float[layer.rows() * k];
    for (int r = 0; r < layer.rows(); r++) {
      for (int j = 0; j < k; j++) {
        out[r * k + j] = weights[layer.index(r, j)];
      }
    }
    return out;
  }

  /** Inverse of {@link #rows}. */
  static float[] fromRows(float[] rows, PrunableLayer layer) {
    int k = layer.reduction();
    float[] out = new float[rows.length];
    for (int r = 0; r < layer.rows(); r++) {
      for (int j = 0; j < k; j++) {
        out[layer.index(r, j)] = rows[r * k + j];
      }
    }
    return out;
  }
}
