package io.sparserollout.sparsify.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.SparsifyException;
import java.util.Set;

/**
 * Raises a model's default-domain opset to 13, the first with per-channel QuantizeLinear and
 * DequantizeLinear. Ops whose signature changed in 13 are rewritten: Unsqueeze, Squeeze, Split and
 * ReduceSum take their axes (or split sizes) as an input instead of an attribute. Callers check the
 * upgraded model against the original on real inputs, since Softmax-family ops changed meaning for
 * an axis other than the last.
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

  private static String uniqueName(NodeProto node, int index, String attribute) {
    String base = node.getName().isEmpty() ? node.getOpType() + "_" + index : node.getName();
    return base + "/" + attribute + "_opset13";
  }
}
