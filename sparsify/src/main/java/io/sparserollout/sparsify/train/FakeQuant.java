package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * int8 quantization-aware training: every quantized layer reads its activation through a per-tensor
 * fake quantizer (the scale calibrated as int8 PTQ calibrates it, then fixed) and its weight
 * through a per-output-channel one (max |w| / 127, recomputed every step). Both are exactly what
 * the exported QuantizeLinear/DequantizeLinear pairs compute; their gradients pass straight through
 * inside the range and are zero outside it (the straight-through estimator of libtorch's fake
 * quantizers).
 *
 * <p>Layers that read one activation (an attention block's query, key and value projections) share
 * its fake-quantized value within a forward run instead of quantizing it once each, as they share
 * its scale: the same numbers, a third of the work on those inputs.
 */
final class FakeQuant implements TorchGraph.InputHook {
  private static final int INT8_MIN = -128;
  private static final int INT8_MAX = 127;

  private final Map<String, PrunableLayer> byNode = new HashMap<>();
  private final Map<String, Float> activationScales;

  /** This forward run's quantized activations by value name, with the tensor each was made from. */
  private final Map<String, Tensor[]> quantizedThisRun = new HashMap<>();

  FakeQuant(List<PrunableLayer> layers, Map<String, Float> activationScales) {
    layers.forEach(l -> byNode.put(l.node(), l));
    this.activationScales = Map.copyOf(activationScales);
  }

  @Override
  public Tensor apply(NodeProto node, int index, Tensor value) {
    PrunableLayer layer = byNode.get(node.getName());
    if (layer == null || value == null) {
      return value;
    }
    if (index == 0) {
      return activation(layer.input(), value);
    }
    if (index == 1 && value.dim() == 2) {
      return weight(value, layer.reductionAxis());
    }
    if (index == 1 && value.dim() > 2) {
      return convolutionWeight(value);
    }
    return value;
  }

  @Override
  public void forwardEnds() {
    quantizedThisRun.clear();
  }

  private Tensor activation(String name, Tensor value) {
    Float scale = activationScales.get(name);
    if (scale == null) {
      return value;
    }
    Tensor[] made = quantizedThisRun.get(name);
    if (made != null && made[0] == value) {
      return made[1];
    }
    Tensor quantized = torch.fake_quantize_per_tensor_affine(value, scale, 0, INT8_MIN, INT8_MAX);
    quantizedThisRun.put(name, new Tensor[] {value, quantized});
    return quantized;
  }

  /**
   * A convolution's weight [out, in/group, kernel...]: one scale per output channel, from the
   * maximum over everything else, as the export computes it.
   */
  static Tensor convolutionWeight(Tensor w) {
    long[] rest = new long[(int) w.dim() - 1];
    for (int d = 0; d < rest.length; d++) {
      rest[d] = d + 1;
    }
    Tensor scales =
        w.detach()
            .abs()
            .amax(rest, false)
            .div(new org.bytedeco.pytorch.Scalar((float) INT8_MAX))
            .clamp_min(new org.bytedeco.pytorch.Scalar(1e-12f));
    Tensor zeros = torch.zeros_like(scales).to(torch.ScalarType.Int);
    return torch.fake_quantize_per_channel_affine(w, scales, zeros, 0, INT8_MIN, INT8_MAX);
  }

  /** Symmetric per-channel fake quantization; channels run along the axis that is not K. */
  static Tensor weight(Tensor w, int reductionAxis) {
    Tensor scales =
        w.detach()
            .abs()
            .amax(new long[] {reductionAxis}, false)
            .div(new org.bytedeco.pytorch.Scalar((float) INT8_MAX))
            .clamp_min(new org.bytedeco.pytorch.Scalar(1e-12f));
    Tensor zeros = torch.zeros_like(scales).to(torch.ScalarType.Int);
    return torch.fake_quantize_per_channel_affine(
        w, scales, zeros, 1 - reductionAxis, INT8_MIN, INT8_MAX);
  }
}
