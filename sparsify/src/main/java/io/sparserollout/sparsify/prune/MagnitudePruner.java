package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.util.List;

/** One-shot: in every group of 4 along K, keep the 2 weights of largest magnitude. */
public final class MagnitudePruner implements Pruner {
  @Override
  public String method() {
    return "magnitude";
  }

  @Override
  public void prune(OnnxModel model, List<PrunableLayer> layers) {
    for (PrunableLayer layer : layers) {
      model.setFloats(layer.weight(), pruned(model.floats(layer.weight()), layer));
    }
  }

  static float[] pruned(float[] weights, PrunableLayer layer) {
    float[] scores = new float[weights.length];
    for (int i = 0; i < weights.length; i++) {
      scores[i] = Math.abs(weights[i]);
    }
    TwoFour.pruneByScore(weights, scores, layer);
    return weights;
  }
}
