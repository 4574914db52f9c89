package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The ONNX operators convolutional networks add to {@link TorchOps}, as libtorch operations with
 * ONNX's semantics: 1-D and 2-D convolution and pooling with asymmetric pads, batch normalization
 * in inference form (its running statistics stay fixed), Clip, HardSigmoid and HardSwish (the
 * activations of MobileNetV3), constant Pad, Flatten, and nearest-neighbour Resize by whole
 * factors. Other forms are refused by name when the graph is loaded.
 */
final class TorchConvOps {
  static final Set<String> SUPPORTED =
      Set.of(
          "Conv",
          "BatchNormalization",
          "Clip",
          "HardSigmoid",
          "HardSwish",
          "Pad",
          "MaxPool",
          "AveragePool",
          "GlobalAveragePool",
          "Flatten",
          "Resize");

  private TorchConvOps() {}

  /** Why this node's form is not supported, or null: checked before any training starts. */
  static String unsupported(NodeProto node) {
    String op = node.getOpType();
    if (!SUPPORTED.contains(op)) {
      return null;
    }
    String autoPad = TorchOps.stringAttribute(node, "auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
      return op + " with auto_pad " + autoPad;
    }
    if (TorchOps.attribute(node, "ceil_mode", 0) != 0) {
      return op + " with ceil_mode";
    }
    if (op.equals("MaxPool") && node.getOutputCount() > 1) {
      return "MaxPool with an Indices output";
    }
    if (op.equals("Pad")) {
      String mode = TorchOps.stringAttribute(node, "mode", "constant");
      if (!mode.equals("constant")) {
        return "Pad in mode " + mode + " (only constant)";
      }
      if (node.getInputCount() > 3 && !node.getInput(3).isEmpty()) {
        return "Pad of some axes only";
      }
    }
    if (op.equals("Resize")) {
      String mode = TorchOps.stringAttribute(node, "mode", "nearest");
      if (!mode.equals("nearest")) {
        return "Resize in mode " + mode + " (only nearest)";
      }
    }
    return null;
  }

  static Tensor apply(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    return switch (node.getOpType()) {
      case "Conv" -> conv(node, in);
      case "BatchNormalization" -> batchNorm(node, in);
      case "Clip" -> clip(node, in);
      case "HardSigmoid" ->
          hardSigmoid(
              x,
              TorchOps.floatAttribute(node, "alpha", 0.2f),
              TorchOps.floatAttribute(node, "beta", 0.5f));
      case "HardSwish" -> x.mul(hardSigmoid(x, 1f / 6, 0.5f));
      case "Pad" -> padAllAxes(node, in);
      case "MaxPool" -> pool(node, x, true);
      case "AveragePool" -> pool(node, x, false);
      case "GlobalAveragePool" -> x.mean(spatialAxes(x), true, new ScalarTypeOptional());
      case "Flatten" -> flatten(node, x);
      case "Resize" -> resize(x, in);
      default -> throw new IllegalArgumentException("unsupported operator " + node.getOpType());
    };
  }

  private static Tensor conv(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    Tensor w = in.get(1);
    int spatial = (int) x.dim() - 2;
    TensorOptional bias = in.size() > 2 ? new TensorOptional(in.get(2)) : new TensorOptional();
    Tensor padded = pad(x, TorchOps.ints(node, "pads"), spatial, 0);
    long[] strides = orOnes(TorchOps.ints(node, "strides"), spatial);
    long[] dilations = orOnes(TorchOps.ints(node, "dilations"), spatial);
    long groups = TorchOps.attribute(node, "group", 1);
    long[] none = new long[spatial];
    return spatial == 1
        ? torch.conv1d(padded, w, bias, strides, none, dilations, groups)
        : torch.conv2d(padded, w, bias, strides, none, dilations, groups);
  }

  /** Inference form: (x - mean) / sqrt(var + epsilon) * scale + bias, per channel. */
  private static Tensor batchNorm(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    long[] channel = new long[(int) x.dim()];
    Arrays.fill(channel, 1);
    channel[1] = -1;
    double epsilon = TorchOps.floatAttribute(node, "epsilon", 1e-5f);
    Tensor scale = in.get(1).reshape(channel);
    Tensor bias = in.get(2).reshape(channel);
    Tensor mean = in.get(3).reshape(channel);
    Tensor variance = in.get(4).reshape(channel);
    return x.sub(mean).div(variance.add(new Scalar(epsilon)).sqrt()).mul(scale).add(bias);
  }

  /** max(0, min(1, alpha x + beta)), as ONNX defines it. */
  private static Tensor hardSigmoid(Tensor x, float alpha, float beta) {
    return torch.clamp(
        x.mul(new Scalar(alpha)).add(new Scalar(beta)),
        new ScalarOptional(new Scalar(0f)),
        new ScalarOptional(new Scalar(1f)));
  }

  /** Bounds from inputs 1 and 2 (opset 11 on) or the min and max attributes (before). */
  private static Tensor clip(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    TensorOptional min = bound(in, 1);
    TensorOptional max = bound(in, 2);
    if (in.size() == 1 && !node.getAttributeList().isEmpty()) {
      float low = TorchOps.floatAttribute(node, "min", -Float.MAX_VALUE);
      float high = TorchOps.floatAttribute(node, "max", Float.MAX_VALUE);
      return torch.clamp(
          x, new ScalarOptional(new Scalar(low)), new ScalarOptional(new Scalar(high)));
    }
    if (!min.has_value() && !max.has_value()) {
      return x;
    }
    return torch.clamp(x, min, max);
  }

  private static TensorOptional bound(List<Tensor> in, int index) {
    return in.size() > index && in.get(index) != null
        ? new TensorOptional(in.get(index))
        : new TensorOptional();
  }

  private static Tensor pool(NodeProto node, Tensor x, boolean max) {
    int spatial = (int) x.dim() - 2;
    long[] kernel = TorchOps.ints(node, "kernel_shape");
    long[] strides = orOnes(TorchOps.ints(node, "strides"), spatial);
    long[] pads = TorchOps.ints(node, "pads");
    long[] none = new long[spatial];
    if (max) {
      long[] dilations = orOnes(TorchOps.ints(node, "dilations"), spatial);
      Tensor padded = pad(x, pads, spatial, Double.NEGATIVE_INFINITY);
      return spatial == 1
          ? torch.max_pool1d(padded, kernel, strides, none, dilations, false)
          : torch.max_pool2d(padded, kernel, strides, none, dilations, false);
    }
    Tensor mean = averagePool(pad(x, pads, spatial, 0), kernel, strides);
    if (TorchOps.attribute(node, "count_include_pad", 0) != 0
        || Arrays.stream(pads).allMatch(p -> p == 0)) {
      return mean;
    }
    // ONNX divides by the real (unpadded) inputs under each window unless told otherwise.
    Tensor share =
        averagePool(pad(torch.full_like(x, new Scalar(1.0)), pads, spatial, 0), kernel, strides);
    return mean.div(share);
  }

  private static Tensor averagePool(Tensor x, long[] kernel, long[] strides) {
    long[] none = new long[kernel.length];
    return kernel.length == 1
        ? torch.avg_pool1d(x, kernel, strides, none, false, true)
        : torch.avg_pool2d(x, kernel, strides, none, false, true, new LongOptional());
  }

  private static Tensor flatten(NodeProto node, Tensor x) {
    long[] shape = TorchTensors.shape(x);
    int axis = (int) TorchOps.attribute(node, "axis", 1);
    if (axis < 0) {
      axis += shape.length;
    }
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= shape[i];
    }
    return x.reshape(outer, -1);
  }

  /** Nearest neighbour by whole factors: each value repeated along each axis. */
  private static Tensor resize(Tensor x, List<Tensor> in) {
    long[] shape = TorchTensors.shape(x);
    long[] target = new long[shape.length];
    if (in.size() > 3 && in.get(3) != null && in.get(3).numel() > 0) {
      target = TorchTensors.toLongs(in.get(3));
    } else {
      float[] scales = TorchTensors.toFloats(in.get(in.size() > 2 ? 2 : 1));
      for (int i = 0; i < shape.length; i++) {
        target[i] = Math.round(shape[i] * scales[i]);
      }
    }
    Tensor y = x;
    for (int axis = 0; axis < shape.length; axis++) {
      if (target[axis] % shape[axis] != 0) {
        throw new SparsifyException(
            "Resize from " + shape[axis] + " to " + target[axis] + " is not by a whole factor");
      }
      long factor = target[axis] / shape[axis];
      if (factor > 1) {
        y = y.repeat_interleave(factor, new LongOptional(axis), new LongOptional());
      }
    }
    return y;
  }

  /** Pads from input 1 and the value from input 2 (opset 11 on), or attributes (before). */
  private static Tensor padAllAxes(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    boolean inputs = in.size() > 1 && in.get(1) != null;
    long[] pads = inputs ? TorchTensors.toLongs(in.get(1)) : TorchOps.ints(node, "pads");
    double value =
        inputs
            ? (in.size() > 2 && in.get(2) != null ? in.get(2).item_double() : 0)
            : TorchOps.floatAttribute(node, "value", 0f);
    return pad(x, pads, (int) x.dim(), value);
  }

  /** ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end] as libtorch's last-axis-first pairs. */
  private static Tensor pad(Tensor x, long[] pads, int spatial, double value) {
    if (pads.length == 0 || Arrays.stream(pads).allMatch(p -> p == 0)) {
      return x;
    }
    long[] torchPads = new long[2 * spatial];
    for (int axis = 0; axis < spatial; axis++) {
      int last = spatial - 1 - axis;
      torchPads[2 * last] = pads[axis];
      torchPads[2 * last + 1] = pads[axis + spatial];
    }
    return torch.constant_pad_nd(x, torchPads, new Scalar(value));
  }

  private static long[] orOnes(long[] values, int spatial) {
    if (values.length > 0) {
      return values;
    }
    long[] ones = new long[spatial];
    Arrays.fill(ones, 1);
    return ones;
  }

  private static long[] spatialAxes(Tensor x) {
    long[] axes = new long[(int) x.dim() - 2];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 2;
    }
    return axes;
  }
}
