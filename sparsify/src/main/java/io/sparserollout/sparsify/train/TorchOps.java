package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * ONNX operators as libtorch operations, with ONNX's semantics (broadcasting, negative axes, opset
 * 11 and 13 forms). The declared set covers BERT-family encoders and MLP classifiers; {@link
 * TorchConvOps} adds what convolutional networks use.
 *
 * <p>Over 300 lines on purpose: one table of the declared ONNX operators and their libtorch
 * equivalents, each a few lines, is easier to audit than several.
 */
final class TorchOps {
  static final Set<String> SUPPORTED =
      Set.of(
          "Add",
          "Sub",
          "Mul",
          "Div",
          "Pow",
          "Sqrt",
          "Erf",
          "Relu",
          "Tanh",
          "Sigmoid",
          "MatMul",
          "Gemm",
          "Gather",
          "Shape",
          "Constant",
          "Unsqueeze",
          "Squeeze",
          "Concat",
          "Reshape",
          "Transpose",
          "Softmax",
          "ReduceMean",
          "ReduceSum",
          "Max",
          "Cast",
          "Slice",
          "Identity",
          "LayerNormalization",
          "Gelu");

  private TorchOps() {}

  static List<Tensor> apply(NodeProto node, List<Tensor> in, int opset) {
    Tensor a = in.isEmpty() ? null : in.get(0);
    return List.of(
        switch (node.getOpType()) {
          case "Add" -> a.add(in.get(1));
          case "Sub" -> a.sub(in.get(1));
          case "Mul" -> a.mul(in.get(1));
          case "Div" -> divide(a, in.get(1));
          case "Pow" -> a.pow(in.get(1));
          case "Sqrt" -> a.sqrt();
          case "Erf" -> a.erf();
          case "Relu" -> torch.relu(a);
          case "Tanh" -> torch.tanh(a);
          case "Sigmoid" -> torch.sigmoid(a);
          case "MatMul" -> a.matmul(in.get(1));
          case "Gemm" -> gemm(node, in);
          case "Identity" -> a;
          case "LayerNormalization" -> layerNorm(node, in);
          case "Gelu" -> torch.gelu(a, stringAttribute(node, "approximate", "none"));
          case "Gather" -> gather(a, in.get(1), (int) attribute(node, "axis", 0));
          case "Shape" -> Tensor.create(TorchTensors.shape(a), a.dim());
          case "Constant" -> constant(node);
          case "Unsqueeze" -> unsqueeze(a, axes(node, in, opset, 13));
          case "Squeeze" -> squeeze(a, axes(node, in, opset, 13));
          case "Concat" -> concat(in, attribute(node, "axis", 0));
          case "Reshape" -> reshape(a, TorchTensors.toLongs(in.get(1)));
          case "Transpose" -> transpose(node, a);
          case "Softmax" -> softmax(a, attribute(node, "axis", opset < 13 ? 1 : -1), opset);
          case "ReduceMean" -> reduceMean(node, a, in, opset);
          case "ReduceSum" -> reduceSum(node, a, in, opset);
          case "Max" -> maximum(in);
          case "Cast" -> a.to(scalarType((int) attribute(node, "to", 1)));
          case "Slice" -> in.size() == 1 ? sliceByAttributes(node, a) : slice(a, in);
          default -> TorchConvOps.apply(node, in);
        });
  }

  private static Tensor divide(Tensor a, Tensor b) {
    if (a.is_floating_point()) {
      return a.div(b);
    }
    // Integer division truncates, as in ONNX (and C); the values are shape arithmetic.
    return a.to(ScalarType.Double).div(b.to(ScalarType.Double)).to(a.scalar_type());
  }

  /** Normalized over the axes from {@code axis} on; scale and bias broadcast as in ONNX. */
  private static Tensor layerNorm(NodeProto node, List<Tensor> in) {
    Tensor x = in.get(0);
    long[] shape = TorchTensors.shape(x);
    int axis = (int) normalize(attribute(node, "axis", -1), x.dim());
    long[] normalized = Arrays.copyOfRange(shape, axis, shape.length);
    Tensor scale = in.get(1);
    Tensor bias = in.size() > 2 ? in.get(2) : null;
    double epsilon = floatAttribute(node, "epsilon", 1e-5f);
    boolean exact =
        Arrays.equals(TorchTensors.shape(scale), normalized)
            && (bias == null || Arrays.equals(TorchTensors.shape(bias), normalized));
    if (exact) {
      return torch.layer_norm(
          x,
          normalized,
          new TensorOptional(scale),
          bias == null ? new TensorOptional() : new TensorOptional(bias),
          epsilon,
          false);
    }
    Tensor y =
        torch
            .layer_norm(x, normalized, new TensorOptional(), new TensorOptional(), epsilon, false)
            .mul(scale);
    return bias == null ? y : y.add(bias);
  }

  private static Tensor gemm(NodeProto node, List<Tensor> in) {
    Tensor a = attribute(node, "transA", 0) != 0 ? in.get(0).t() : in.get(0);
    Tensor b = attribute(node, "transB", 0) != 0 ? in.get(1).t() : in.get(1);
    Tensor y = a.matmul(b).mul(new org.bytedeco.pytorch.Scalar(floatAttribute(node, "alpha", 1f)));
    if (in.size() > 2 && in.get(2) != null) {
      y = y.add(in.get(2).mul(new org.bytedeco.pytorch.Scalar(floatAttribute(node, "beta", 1f))));
    }
    return y;
  }

  private static Tensor gather(Tensor data, Tensor indices, int axis) {
    int dim = (int) normalize(axis, data.dim());
    if (indices.dim() == 0) {
      long index = indices.item_long();
      return data.select(dim, index < 0 ? index + data.size(dim) : index);
    }
    long[] dataShape = TorchTensors.shape(data);
    long[] indexShape = TorchTensors.shape(indices);
    long[] shape = new long[dataShape.length - 1 + indexShape.length];
    System.arraycopy(dataShape, 0, shape, 0, dim);
    System.arraycopy(indexShape, 0, shape, dim, indexShape.length);
    System.arraycopy(
        dataShape, dim + 1, shape, dim + indexShape.length, dataShape.length - dim - 1);
    return data.index_select(dim, indices.flatten()).reshape(shape);
  }

  private static Tensor constant(NodeProto node) {
    for (AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals("value")) {
        TensorProto value = attribute.getT();
        return TorchTensors.of(value.toBuilder().setName(node.getOutput(0)).build(), null);
      }
    }
    throw new IllegalArgumentException("Constant without a tensor value");
  }

  private static long[] axes(NodeProto node, List<Tensor> in, int opset, int inputSince) {
    if (opset >= inputSince && in.size() > 1 && in.get(1) != null) {
      return TorchTensors.toLongs(in.get(1));
    }
    return ints(node, "axes");
  }

  private static Tensor unsqueeze(Tensor a, long[] axes) {
    long rank = a.dim() + axes.length;
    long[] sorted = Arrays.stream(axes).map(x -> normalize(x, rank)).sorted().toArray();
    Tensor out = a;
    for (long axis : sorted) {
      out = out.unsqueeze(axis);
    }
    return out;
  }

  private static Tensor squeeze(Tensor a, long[] axes) {
    long[] shape = TorchTensors.shape(a);
    long[] squeezed =
        java.util.stream.IntStream.range(0, shape.length)
            .filter(
                i ->
                    axes.length == 0
                        ? shape[i] != 1
                        : Arrays.stream(axes).noneMatch(x -> normalize(x, shape.length) == i))
            .mapToLong(i -> shape[i])
            .toArray();
    return a.reshape(squeezed);
  }

  private static Tensor concat(List<Tensor> in, long axis) {
    TensorVector parts = new TensorVector(in.toArray(Tensor[]::new));
    return torch.cat(parts, normalize(axis, in.get(0).dim()));
  }

  private static Tensor reshape(Tensor a, long[] shape) {
    long[] resolved = shape.clone();
    for (int i = 0; i < resolved.length; i++) {
      if (resolved[i] == 0) {
        resolved[i] = a.size(i); // ONNX: 0 copies the input's dimension
      }
    }
    return a.reshape(resolved);
  }

  private static Tensor transpose(NodeProto node, Tensor a) {
    long[] perm = ints(node, "perm");
    if (perm.length == 0) {
      perm = new long[(int) a.dim()];
      for (int i = 0; i < perm.length; i++) {
        perm[i] = perm.length - 1 - i;
      }
    }
    return a.permute(perm);
  }

  /** Before opset 13 Softmax flattens to 2-D at the axis; from 13 it is along the axis. */
  private static Tensor softmax(Tensor a, long axis, int opset) {
    long dim = normalize(axis, a.dim());
    if (opset >= 13 || dim == a.dim() - 1) {
      return a.softmax(dim);
    }
    long[] shape = TorchTensors.shape(a);
    return a.flatten(dim, a.dim() - 1).softmax(dim).reshape(shape);
  }

  private static Tensor reduceMean(NodeProto node, Tensor a, List<Tensor> in, int opset) {
    long[] axes = axes(node, in, opset, 18);
    boolean keep = attribute(node, "keepdims", 1) != 0;
    if (axes.length == 0) {
      axes = java.util.stream.LongStream.range(0, a.dim()).toArray();
    }
    long[] dims = Arrays.stream(axes).map(x -> normalize(x, a.dim())).toArray();
    return a.mean(dims, keep, new ScalarTypeOptional());
  }

  /** Axes an input from opset 13 (an attribute before); none given sums over every axis. */
  private static Tensor reduceSum(NodeProto node, Tensor a, List<Tensor> in, int opset) {
    long[] axes = axes(node, in, opset, 13);
    boolean keep = attribute(node, "keepdims", 1) != 0;
    if (axes.length == 0) {
      if (attribute(node, "noop_with_empty_axes", 0) != 0) {
        return a;
      }
      axes = java.util.stream.LongStream.range(0, a.dim()).toArray();
    }
    long[] dims = Arrays.stream(axes).map(x -> normalize(x, a.dim())).toArray();
    Tensor sum = a.sum(dims, keep, new ScalarTypeOptional());
    // libtorch sums integers as int64; ONNX keeps the input's type.
    return a.is_floating_point() ? sum : sum.to(a.scalar_type());
  }

  /** Element-wise maximum of all inputs, broadcast as in ONNX. */
  private static Tensor maximum(List<Tensor> in) {
    Tensor out = in.get(0);
    for (int i = 1; i < in.size(); i++) {
      out = torch.maximum(out, in.get(i));
    }
    return out;
  }

  private static Tensor slice(Tensor a, List<Tensor> in) {
    long[] starts = TorchTensors.toLongs(in.get(1));
    return slice(
        a,
        starts,
        TorchTensors.toLongs(in.get(2)),
        in.size() > 3 && in.get(3) != null ? TorchTensors.toLongs(in.get(3)) : null,
        in.size() > 4 && in.get(4) != null
            ? TorchTensors.toLongs(in.get(4))
            : filled(starts.length));
  }

  /** Opset 1-9: starts, ends and axes are attributes (paddle2onnx writes such models). */
  private static Tensor sliceByAttributes(NodeProto node, Tensor a) {
    long[] starts = ints(node, "starts");
    long[] axes = ints(node, "axes");
    return slice(
        a, starts, ints(node, "ends"), axes.length == 0 ? null : axes, filled(starts.length));
  }

  private static Tensor slice(
      Tensor a, long[] starts, long[] ends, long[] axesOrNull, long[] steps) {
    long[] axes =
        axesOrNull != null
            ? axesOrNull
            : java.util.stream.LongStream.range(0, starts.length).toArray();
    Tensor out = a;
    for (int i = 0; i < starts.length; i++) {
      long dim = normalize(axes[i], a.dim());
      long size = a.size(dim);
      if (steps[i] != 1) {
        throw new IllegalArgumentException("Slice with step " + steps[i] + " is not supported");
      }
      long start = clamp(starts[i] < 0 ? starts[i] + size : starts[i], size);
      long end = clamp(ends[i] < 0 ? ends[i] + size : ends[i], size);
      out = out.slice(dim, new LongOptional(start), new LongOptional(Math.max(start, end)), 1);
    }
    return out;
  }

  private static ScalarType scalarType(int onnxType) {
    return switch (onnxType) {
      case TensorProto.DataType.FLOAT_VALUE -> ScalarType.Float;
      case TensorProto.DataType.INT64_VALUE -> ScalarType.Long;
      case TensorProto.DataType.INT32_VALUE -> ScalarType.Int;
      case TensorProto.DataType.DOUBLE_VALUE -> ScalarType.Double;
      case TensorProto.DataType.BOOL_VALUE -> ScalarType.Bool;
      case TensorProto.DataType.FLOAT16_VALUE -> ScalarType.Half;
      default -> throw new IllegalArgumentException("Cast to ONNX type " + onnxType);
    };
  }

  private static long clamp(long value, long size) {
    return Math.max(0, Math.min(value, size));
  }

  private static long[] filled(int n) {
    long[] ones = new long[n];
    Arrays.fill(ones, 1);
    return ones;
  }

  private static long normalize(long axis, long rank) {
    return axis < 0 ? axis + rank : axis;
  }

  static long attribute(NodeProto node, String name, long fallback) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .mapToLong(AttributeProto::getI)
        .findFirst()
        .orElse(fallback);
  }

  static float floatAttribute(NodeProto node, String name, float fallback) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .map(AttributeProto::getF)
        .findFirst()
        .orElse(fallback);
  }

  static String stringAttribute(NodeProto node, String name, String fallback) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .map(a -> a.getS().toStringUtf8())
        .findFirst()
        .orElse(fallback);
  }

  static long[] ints(NodeProto node, String name) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .findFirst()
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray())
        .orElse(new long[0]);
  }
}
