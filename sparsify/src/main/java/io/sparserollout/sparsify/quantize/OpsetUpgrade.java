package io.sparserollout.sparsify.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.SparsifyException;
import java.util.List;
import java.util.Set;

/**
 * Raises a model's default-domain opset to 13, the first with per-channel QuantizeLinear and
 * DequantizeLinear. Ops whose signature changed by 13 are rewritten: Unsqueeze, Squeeze, Split and
 * ReduceSum take their axes (or split sizes) as an input instead of an attribute, and so do Clip
 * its bounds, Slice its starts, ends and axes, and Pad its pads and value (opset 9 models, as
 * paddle2onnx exports them, carry them as attributes). Callers check the upgraded model against the
 * original on real inputs, since Softmax-family ops changed meaning for an axis other than the
 * last.
 */
public final class OpsetUpgrade {
  static final int TARGET = 13;
  private static final Set<String> AXES_TO_INPUT = Set.of("Unsqueeze", "Squeeze", "ReduceSum");

  private OpsetUpgrade() {}

  public static int defaultOpset(ModelProto.Builder model) {
    return model.getOpsetImportList().stream()
        .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
        .mapToInt(o -> (int) o.getVersion())
        .findFirst()
        .orElseThrow(() -> new SparsifyException("the model imports no default-domain opset"));
  }

  /** Returns true when the model was changed. */
  public static boolean toOpset13(ModelProto.Builder model) {
    int current = defaultOpset(model);
    if (current >= TARGET) {
      return false;
    }
    if (current < 7) {
      throw new SparsifyException("opset " + current + " is too old to quantize; export with 13+");
    }
    GraphProto.Builder graph = model.getGraphBuilder();
    for (int i = 0; i < graph.getNodeCount(); i++) {
      NodeProto node = graph.getNode(i);
      String attribute =
          AXES_TO_INPUT.contains(node.getOpType())
              ? "axes"
              : node.getOpType().equals("Split") ? "split" : null;
      if (attribute == null) {
        graph.setNode(i, attributesToInputs(graph, node, i));
        continue;
      }
      NodeProto.Builder rewritten = node.toBuilder();
      for (int a = 0; a < rewritten.getAttributeCount(); a++) {
        AttributeProto attr = rewritten.getAttribute(a);
        if (attr.getName().equals(attribute)) {
          String name = uniqueName(node, i, attribute);
          graph.addInitializer(
              TensorProto.newBuilder()
                  .setName(name)
                  .setDataType(TensorProto.DataType.INT64_VALUE)
                  .addDims(attr.getIntsCount())
                  .addAllInt64Data(attr.getIntsList()));
          rewritten.addInput(name);
          rewritten.removeAttribute(a);
          break;
        }
      }
      graph.setNode(i, rewritten);
    }
    for (int i = 0; i < model.getOpsetImportCount(); i++) {
      OperatorSetIdProto opset = model.getOpsetImport(i);
      if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
        model.setOpsetImport(i, opset.toBuilder().setVersion(TARGET));
      }
    }
    if (model.getIrVersion() < 7) {
      model.setIrVersion(7);
    }
    return true;
  }

  /** Inputs in the order opset 13 reads them, each given by an attribute of the older form. */
  private static final java.util.Map<String, List<String>> MOVED_TO_INPUTS =
      java.util.Map.of(
          "Clip", List.of("min", "max"),
          "Slice", List.of("starts", "ends", "axes"),
          "Pad", List.of("pads", "value"));

  private static NodeProto attributesToInputs(GraphProto.Builder graph, NodeProto node, int index) {
    List<String> moved = MOVED_TO_INPUTS.get(node.getOpType());
    if (moved == null
        || node.getAttributeList().stream().noneMatch(a -> moved.contains(a.getName()))) {
      return node;
    }
    NodeProto.Builder rewritten =
        node.toBuilder().clearAttribute().clearInput().addInput(node.getInput(0));
    java.util.Map<String, AttributeProto> byName = new java.util.HashMap<>();
    for (AttributeProto a : node.getAttributeList()) {
      if (moved.contains(a.getName())) {
        byName.put(a.getName(), a);
      } else {
        rewritten.addAttribute(a);
      }
    }
    List<String> inputs = new java.util.ArrayList<>();
    for (String name : moved) {
      AttributeProto a = byName.get(name);
      if (a == null) {
        inputs.add(""); // an optional input left out
        continue;
      }
      String tensor = uniqueName(node, index, name);
      TensorProto.Builder value = TensorProto.newBuilder().setName(tensor);
      if (a.getType() == AttributeProto.AttributeType.FLOAT) {
        value.setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(a.getF()); // a scalar
      } else {
        value
            .setDataType(TensorProto.DataType.INT64_VALUE)
            .addDims(a.getIntsCount())
            .addAllInt64Data(a.getIntsList());
      }
      graph.addInitializer(value);
      inputs.add(tensor);
    }
    while (!inputs.isEmpty() && inputs.get(inputs.size() - 1).isEmpty()) {
      inputs.remove(inputs.size() - 1);
    }
    rewritten.addAllInput(inputs);
    return rewritten.build();
  }

  private static String uniqueName(NodeProto node, int index, String attribute) {
    String base = node.getName().isEmpty() ? node.getOpType() + "_" + index : node.getName();
    return base + "/" + attribute + "_opset13";
  }
}
