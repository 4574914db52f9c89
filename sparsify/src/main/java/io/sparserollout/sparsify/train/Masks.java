package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.prune.TwoFour;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The n:4 masks of the prunable layers, multiplied into the weights after every optimizer step so
 * that pruned weights stay exactly zero. Read from the zeros a model already has (a pruned {@code
 * --init}, a checkpoint), or chosen by magnitude from the current weights (one-shot, or each step
 * of a progressive schedule).
 */
final class Masks {
  private final Map<String, Tensor> masks = new LinkedHashMap<>();
  private final TorchGraph graph;

  private Masks(TorchGraph graph) {
    this.graph = graph;
  }

  /**
   * Masks that keep the non-zero weights as they are. A layer with no zero (one pruning left dense,
   * such as a classifier's head) gets none: it trains dense and is not counted as kept 2:4.
   */
  static Masks fromZeros(TorchGraph graph, List<PrunableLayer> layers) {
    Masks masks = new Masks(graph);
    for (PrunableLayer layer : layers) {
      Tensor weight = graph.initializers().get(layer.weight());
      Tensor kept = weight.ne(new Scalar(0f)).to(torch.ScalarType.Float);
      if (kept.min().item_double() < 1) {
        masks.masks.put(layer.weight(), kept);
      }
    }
    return masks;
  }

  /** Zeroes, in every group of 4 along each layer's K axis, the {@code pruned} smallest weights. */
  static Masks byMagnitude(TorchGraph graph, List<PrunableLayer> layers, int pruned) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (PrunableLayer layer : layers) {
        Tensor weight = graph.initializers().get(layer.weight());
        float[] values = TorchTensors.toFloats(weight.detach());
        float[] scores = new float[values.length];
        for (int i = 0; i < values.length; i++) {
          scores[i] = Math.abs(values[i]);
        }
        TwoFour.pruneByScore(values, scores, layer, pruned);
        weight.copy_(Tensor.create(values, TorchTensors.shape(weight)));
      }
    }
    return fromZeros(graph, layers);
  }

  /** Puts every pruned weight back to exactly zero. */
  void apply() {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> m : masks.entrySet()) {
        graph.initializers().get(m.getKey()).mul_(m.getValue());
      }
    }
  }

  int size() {
    return masks.size();
  }
}
