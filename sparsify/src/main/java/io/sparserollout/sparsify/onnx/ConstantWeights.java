package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Weights held in {@code Constant} nodes rather than initializers, as paddle2onnx exports them
 * (PaddleOCR's networks have no initializer at all), become initializers of the same name: the
 * graph computes the same, and pruning, quantization and fine-tuning find them where they look.
 */
final class ConstantWeights {
  private static final Set<String> LAYERS = Set.of("MatMul", "Gemm", "Conv");

  private ConstantWeights() {}

  /** Moves the Constant nodes that feed a layer's weight into initializers; returns how many. */
  static int hoist(GraphProto.Builder graph) {
    Set<String> weights = new HashSet<>();
    for (NodeProto node : graph.getNodeList()) {
      if (LAYERS.contains(node.getOpType()) && node.getInputCount() > 1) {
        weights.add(node.getInput(1));
      }
    }
    // A weight may reach its layer through QuantizeLinear then DequantizeLinear, as LayerFinder
    // reads it: two hops back.
    for (int hop = 0; hop < 2; hop++) {
      for (NodeProto node : graph.getNodeList()) {
        boolean fakeQuantization =
            node.getOpType().equals("DequantizeLinear")
                || node.getOpType().equals("QuantizeLinear");
        if (fakeQuantization && weights.contains(node.getOutput(0))) {
          weights.add(node.getInput(0));
        }
      }
    }
    Set<String> outputs = new HashSet<>();
    graph.getOutputList().stream().map(ValueInfoProto::getName).forEach(outputs::add);
    int hoisted = 0;
    List<NodeProto> nodes = List.copyOf(graph.getNodeList());
    graph.clearNode();
    for (NodeProto node : nodes) {
      TensorProto value = tensorValue(node);
      String name = node.getOutputCount() == 1 ? node.getOutput(0) : null;
      if (value != null && weights.contains(name) && !outputs.contains(name)) {
        graph.addInitializer(value.toBuilder().setName(name));
        hoisted++;
      } else {
        graph.addNode(node);
      }
    }
    return hoisted;
  }

  /** The tensor of a Constant node given by its {@code value} attribute, else null. */
  private static TensorProto tensorValue(NodeProto node) {
    if (!node.getOpType().equals("Constant") || node.getAttributeCount() != 1) {
      return null;
    }
    AttributeProto attribute = node.getAttribute(0);
    return attribute.getName().equals("value") && attribute.hasT() ? attribute.getT() : null;
  }
}
