package io.sparserollout.sparsify.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a graph for explicit int8 quantization as TensorRT consumes it: every quantized
 * MatMul/Gemm/Conv reads its activation through QuantizeLinear -> DequantizeLinear (per tensor) and
 * its float weight through QuantizeLinear -> DequantizeLinear (per output channel, symmetric).
 */
final class QdqInserter {
  /** Per-channel weight scales and the weight axis they run along. */
  record WeightScales(float[] scales, int axis) {}

  private final GraphProto.Builder graph;
  private final Set<String> emitted = new HashSet<>();

  QdqInserter(GraphProto.Builder graph) {
    this.graph = graph;
  }

  void insert(Map<String, Float> activationScales, Map<String, WeightScales> weights) {
    List<NodeProto> nodes = new ArrayList<>();
    for (NodeProto node : graph.getNodeList()) {
      boolean linear =
          node.getOpType().equals("MatMul")
              || node.getOpType().equals("Gemm")
              || node.getOpType().equals("Conv");
      if (linear && node.getInputCount() >= 2 && weights.containsKey(node.getInput(1))) {
        NodeProto.Builder rewritten = node.toBuilder();
        String activation = node.getInput(0);
        Float scale = activationScales.get(activation);
        if (scale != null) {
          rewritten.setInput(0, quantizeDequantize(nodes, activation, new float[] {scale}, -1));
        }
        String weight = node.getInput(1);
        WeightScales w = weights.get(weight);
        rewritten.setInput(1, quantizeDequantize(nodes, weight, w.scales(), w.axis()));
        nodes.add(rewritten.build());
      } else {
        nodes.add(node);
      }
    }
    graph.clearNode().addAllNode(nodes);
  }

  /** Emits (once per tensor) the Q/DQ pair before its first consumer; returns the DQ output. */
  private String quantizeDequantize(
      List<NodeProto> nodes, String tensor, float[] scales, int axis) {
    String dequantized = tensor + "_DequantizeLinear_Output";
    if (!emitted.add(tensor)) {
      return dequantized;
    }
    String scale = tensor + "_scale";
    String zeroPoint = tensor + "_zero_point";
    boolean perChannel = axis >= 0;
    TensorProto.Builder scaleTensor =
        TensorProto.newBuilder().setName(scale).setDataType(TensorProto.DataType.FLOAT_VALUE);
    TensorProto.Builder zeroTensor =
        TensorProto.newBuilder().setName(zeroPoint).setDataType(TensorProto.DataType.INT8_VALUE);
    if (perChannel) {
      scaleTensor.addDims(scales.length);
      zeroTensor.addDims(scales.length);
    }
    for (float s : scales) {
      scaleTensor.addFloatData(s);
      zeroTensor.addInt32Data(0);
    }
    graph.addInitializer(scaleTensor).addInitializer(zeroTensor);
    String quantized = tensor + "_QuantizeLinear_Output";
    nodes.add(
        node(
            "QuantizeLinear",
            tensor + "_QuantizeLinear",
            quantized,
            axis,
            tensor,
            scale,
            zeroPoint));
    nodes.add(
        node(
            "DequantizeLinear",
            tensor + "_DequantizeLinear",
            dequantized,
            axis,
            quantized,
            scale,
            zeroPoint));
    return dequantized;
  }

  private static NodeProto node(String op, String name, String output, int axis, String... inputs) {
    NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
    for (String input : inputs) {
      node.addInput(input);
    }
    if (axis >= 0) {
      node.addAttribute(
          AttributeProto.newBuilder()
              .setName("axis")
              .setType(AttributeProto.AttributeType.INT)
              .setI(axis));
    }
    return node.build();
  }
}
