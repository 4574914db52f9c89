package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Finds the layers of a model that can carry the 2:4 pattern, and says why others cannot. */
public final class LayerFinder {

  /** A layer left dense, with the reason. */
  public record Skipped(String weight, String node, String reason) {}

  /** Eligible layers in graph order, and the ones skipped. */
  public record Layers(List<PrunableLayer> prunable, List<Skipped> skipped) {}

  private final List<Pattern> include;
  private final List<Pattern> exclude;
  private final boolean twoFour;

  /** Regular expressions over weight names; empty include means every eligible layer. */
  public LayerFinder(List<String> include, List<String> exclude) {
    this(include, exclude, true);
  }

  private LayerFinder(List<String> include, List<String> exclude, boolean twoFour) {
    this.include = include.stream().map(Pattern::compile).toList();
    this.exclude = exclude.stream().map(Pattern::compile).toList();
    this.twoFour = twoFour;
  }

  public static LayerFinder all() {
    return new LayerFinder(List.of(), List.of());
  }

  /**
   * Every layer with a constant float weight, also one whose K is not a multiple of 4 (a depthwise
   * convolution, a network's first layer): what int8 quantization takes.
   */
  public static LayerFinder quantizable() {
    return new LayerFinder(List.of(), List.of(), false);
  }

  public Layers find(OnnxModel model) {
    Map<String, Integer> uses = new HashMap<>();
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      for (String input : node.getInputList()) {
        uses.merge(input, 1, Integer::sum);
      }
    }
    Map<String, NodeProto> producers = new HashMap<>();
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      node.getOutputList().forEach(o -> producers.put(o, node));
    }
    List<PrunableLayer> prunable = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      Integer axis = reductionAxis(node);
      if (axis == null || node.getInputCount() < 2) {
        continue;
      }
      String weight = throughFakeQuantization(node.getInput(1), producers);
      TensorProto tensor = model.initializer(weight).orElse(null);
      String name = node.getName().isEmpty() ? node.getOutput(0) : node.getName();
      if (tensor == null) {
        continue; // both operands are activations: nothing constant to prune
      }
      long[] dims = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
      String reason =
          ineligibility(node, tensor, dims, axis, uses.getOrDefault(weight, 0), twoFour);
      if (reason == null && !selected(weight)) {
        reason = "excluded by the layer selection";
      }
      if (reason != null) {
        skipped.add(new Skipped(weight, name, reason));
      } else {
        prunable.add(
            new PrunableLayer(name, node.getOpType(), weight, node.getInput(0), dims, axis));
      }
    }
    return new Layers(prunable, skipped);
  }

  /**
   * The initializer behind a weight input, also when it reaches the layer through explicit
   * quantization (QuantizeLinear then DequantizeLinear, or DequantizeLinear of int8 weights).
   */
  private static String throughFakeQuantization(String input, Map<String, NodeProto> producers) {
    String name = input;
    for (int hop = 0; hop < 2; hop++) {
      NodeProto producer = producers.get(name);
      if (producer == null
          || !(producer.getOpType().equals("DequantizeLinear")
              || producer.getOpType().equals("QuantizeLinear"))) {
        break;
      }
      name = producer.getInput(0);
    }
    return name;
  }

  private boolean selected(String weight) {
    boolean included =
        include.isEmpty() || include.stream().anyMatch(p -> p.matcher(weight).find());
    return included && exclude.stream().noneMatch(p -> p.matcher(weight).find());
  }

  /** Axis of the weight that the op sums over, or null for ops that are not linear layers. */
  private static Integer reductionAxis(NodeProto node) {
    return switch (node.getOpType()) {
      case "MatMul" -> 0; // A[M,K] x B[K,N]
      case "Gemm" -> intAttribute(node, "transB", 0) == 1 ? 1 : 0; // B[N,K] when transposed
      case "Conv" -> 1; // W[K_out, C/group, kernel...]
      default -> null;
    };
  }

  private static String ineligibility(
      NodeProto node, TensorProto tensor, long[] dims, int axis, int uses, boolean twoFour) {
    if (tensor.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
      return "weight is not float32";
    }
    boolean conv = node.getOpType().equals("Conv");
    if (!conv && dims.length != 2) {
      return "weight has " + dims.length + " dimensions, not 2";
    }
    if (conv && dims.length < 3) {
      return "convolution weight has fewer than 3 dimensions";
    }
    if (uses > 1) {
      return "weight is shared by " + uses + " nodes";
    }
    long k = dims[axis];
    if (twoFour && k % 4 != 0) {
      return "reduction dimension K=" + k + " is not a multiple of 4";
    }
    return null;
  }

  private static long intAttribute(NodeProto node, String name, long fallback) {
    for (AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getI();
      }
    }
    return fallback;
  }
}
