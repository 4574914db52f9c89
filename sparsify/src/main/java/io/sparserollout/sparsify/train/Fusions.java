package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.onnx.OnnxModel;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites the operator chains that exporters emit for layer normalization and exact GELU into the
 * single ONNX operators {@code LayerNormalization} and {@code Gelu}. The meaning is unchanged; the
 * training step gets cheaper, because libtorch then runs one fused kernel (and one backward) where
 * it ran nine and five elementwise passes, each keeping its activations for autograd. A chain is
 * fused only when nothing outside it reads its intermediate values.
 */
final class Fusions {
  private static final float TOLERANCE = 1e-4f;

  private final GraphProto graph;
  private final Map<String, List<NodeProto>> readers = new HashMap<>();
  private final Map<String, Float> scalars = new HashMap<>();
  private final Set<String> floatInitializers = new HashSet<>();
  private final Set<String> graphOutputs = new HashSet<>();

  private Fusions(GraphProto graph) {
    this.graph = graph;
    for (NodeProto node : graph.getNodeList()) {
      for (String input : node.getInputList()) {
        readers.computeIfAbsent(input, k -> new ArrayList<>()).add(node);
      }
      if (node.getOpType().equals("Constant")) {
        node.getAttributeList().stream()
            .filter(a -> a.getName().equals("value"))
            .findFirst()
            .ifPresent(a -> scalar(a.getT()).ifPresent(v -> scalars.put(node.getOutput(0), v)));
      }
    }
    for (TensorProto initializer : graph.getInitializerList()) {
      scalar(initializer).ifPresent(v -> scalars.put(initializer.getName(), v));
      if (initializer.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        floatInitializers.add(initializer.getName());
      }
    }
    graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
  }

  /** The graph's nodes, with every recognised chain replaced by its single operator. */
  static List<NodeProto> fuse(GraphProto graph) {
    return new Fusions(graph).fused();
  }

  private List<NodeProto> fused() {
    Set<NodeProto> replaced = new HashSet<>();
    Map<NodeProto, NodeProto> byLastNode = new HashMap<>();
    for (NodeProto node : graph.getNodeList()) {
      List<NodeProto> chain = new ArrayList<>();
      NodeProto fused =
          switch (node.getOpType()) {
            case "ReduceMean" -> layerNorm(node, chain);
            case "Div" -> gelu(node, chain);
            default -> null;
          };
      if (fused != null && chain.stream().noneMatch(replaced::contains)) {
        replaced.addAll(chain);
        byLastNode.put(chain.get(chain.size() - 1), fused);
      }
    }
    List<NodeProto> nodes = new ArrayList<>();
    for (NodeProto node : graph.getNodeList()) {
      if (byLastNode.containsKey(node)) {
        nodes.add(byLastNode.get(node));
      } else if (!replaced.contains(node)) {
        nodes.add(node);
      }
    }
    return nodes;
  }

  /**
   * mean = ReduceMean(x); d = x - mean; var = ReduceMean(d ^ 2); y = d / sqrt(var + eps) * scale +
   * bias, over the last axis.
   */
  private NodeProto layerNorm(NodeProto mean, List<NodeProto> chain) {
    String x = mean.getInput(0);
    NodeProto sub = onlyReader(mean, "Sub");
    if (!lastAxis(mean) || sub == null || !sub.getInput(0).equals(x)) {
      return null;
    }
    List<NodeProto> subReaders = readers.getOrDefault(sub.getOutput(0), List.of());
    if (subReaders.size() != 2 || graphOutputs.contains(sub.getOutput(0))) {
      return null;
    }
    NodeProto pow =
        subReaders.stream().filter(n -> n.getOpType().equals("Pow")).findFirst().orElse(null);
    NodeProto variance = pow == null ? null : onlyReader(pow, "ReduceMean");
    NodeProto addEps = variance == null ? null : onlyReader(variance, "Add");
    NodeProto sqrt = addEps == null ? null : onlyReader(addEps, "Sqrt");
    NodeProto div = sqrt == null ? null : onlyReader(sqrt, "Div");
    NodeProto mul = div == null ? null : onlyReader(div, "Mul");
    NodeProto add = mul == null ? null : onlyReader(mul, "Add");
    if (add == null
        || !is(scalars.get(pow.getInput(1)), 2f)
        || !lastAxis(variance)
        || !subReaders.contains(div)
        || !div.getInput(0).equals(sub.getOutput(0))
        || !div.getInput(1).equals(sqrt.getOutput(0))) {
      return null;
    }
    Float epsilon = scalars.get(other(addEps, variance.getOutput(0)));
    String scale = other(mul, div.getOutput(0));
    String bias = other(add, mul.getOutput(0));
    if (epsilon == null
        || !floatInitializers.contains(scale)
        || !floatInitializers.contains(bias)) {
      return null;
    }
    chain.addAll(List.of(mean, sub, pow, variance, addEps, sqrt, div, mul, add));
    return NodeProto.newBuilder()
        .setName(add.getName())
        .setOpType("LayerNormalization")
        .addAllInput(List.of(x, scale, bias))
        .addOutput(add.getOutput(0))
        .addAttribute(intAttribute("axis", -1))
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("epsilon")
                .setType(AttributeProto.AttributeType.FLOAT)
                .setF(epsilon))
        .build();
  }

  /** y = x * (erf(x / sqrt(2)) + 1) * 0.5: GELU without the tanh approximation. */
  private NodeProto gelu(NodeProto div, List<NodeProto> chain) {
    String x = div.getInput(0);
    NodeProto erf = onlyReader(div, "Erf");
    NodeProto addOne = erf == null ? null : onlyReader(erf, "Add");
    NodeProto mulX = addOne == null ? null : onlyReader(addOne, "Mul");
    NodeProto half = mulX == null ? null : onlyReader(mulX, "Mul");
    if (half == null
        || !is(scalars.get(div.getInput(1)), (float) Math.sqrt(2))
        || !is(scalars.get(other(addOne, erf.getOutput(0))), 1f)
        || !x.equals(other(mulX, addOne.getOutput(0)))
        || !is(scalars.get(other(half, mulX.getOutput(0))), 0.5f)) {
      return null;
    }
    chain.addAll(List.of(div, erf, addOne, mulX, half));
    return NodeProto.newBuilder()
        .setName(half.getName())
        .setOpType("Gelu")
        .addInput(x)
        .addOutput(half.getOutput(0))
        .build();
  }

  /** The single node reading {@code node}'s output, when it has {@code opType} and is no output. */
  private NodeProto onlyReader(NodeProto node, String opType) {
    String value = node.getOutput(0);
    List<NodeProto> list = readers.getOrDefault(value, List.of());
    if (list.size() != 1 || graphOutputs.contains(value)) {
      return null;
    }
    NodeProto reader = list.get(0);
    return reader.getOpType().equals(opType) ? reader : null;
  }

  /** The input of a two-input node that is not {@code known}. */
  private static String other(NodeProto node, String known) {
    if (node.getInputCount() != 2) {
      return null;
    }
    return node.getInput(0).equals(known) ? node.getInput(1) : node.getInput(0);
  }

  private static boolean lastAxis(NodeProto reduceMean) {
    if (reduceMean.getInputCount() != 1) {
      return false; // opset 18 reads its axes from an input: left unfused
    }
    for (AttributeProto a : reduceMean.getAttributeList()) {
      if (a.getName().equals("keepdims") && a.getI() == 0) {
        return false;
      }
      if (a.getName().equals("axes")) {
        return a.getIntsList().equals(List.of(-1L));
      }
    }
    return false;
  }

  private static boolean is(Float value, float expected) {
    return value != null && Math.abs(value - expected) <= TOLERANCE * Math.abs(expected);
  }

  private static Optional<Float> scalar(TensorProto tensor) {
    if (tensor.getDataType() != TensorProto.DataType.FLOAT_VALUE
        || OnnxModel.elementCount(tensor) != 1) {
      return Optional.empty();
    }
    if (tensor.getFloatDataCount() == 1) {
      return Optional.of(tensor.getFloatData(0));
    }
    if (tensor.getRawData().size() == Float.BYTES) {
      return Optional.of(
          tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }
    return Optional.empty();
  }

  private static AttributeProto intAttribute(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }
}
