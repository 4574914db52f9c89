package io.sparserollout.sparsify.head;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.eval.ClassLabels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.quantize.OpsetUpgrade;
import java.util.List;

/**
 * Turns a text encoder into a classifier: its first output (hidden states [batch, sequence,
 * hidden]) is mean-pooled over the attention mask, as the evaluation pools an embedding, and a Gemm
 * maps the pooled vector to {@code logits} [batch, classes], the model's only output. The class
 * names go to the {@code id2label} metadata. Only operators of every opset from 11 are used, so the
 * encoder's opset is kept.
 */
public final class HeadGraft {
  public static final String LOGITS = "logits";
  public static final String WEIGHT = "classifier.weight";
  public static final String BIAS = "classifier.bias";
  private static final String MASK = "attention_mask";
  private static final String P = "classifier/";

  private HeadGraft() {}

  public static void attach(OnnxModel model, SoftmaxRegression.Weights head, List<String> names) {
    check(model);
    GraphProto.Builder graph = model.proto().getGraphBuilder();
    String hidden = graph.getOutput(0).getName();
    int opset = OpsetUpgrade.defaultOpset(model.proto());
    graph.addInitializer(longs(P + "to_rows", 0, 1, -1));
    graph.addInitializer(longs(P + "flat", 0, -1));
    graph.addInitializer(floats(P + "one", new float[] {1f}));
    graph.addInitializer(floats(WEIGHT, head.weight(), head.classes(), head.features()));
    graph.addInitializer(floats(BIAS, head.bias(), head.classes()));
    graph.addNode(
        node("Cast", List.of(MASK), P + "mask")
            .addAttribute(integer("to", TensorProto.DataType.FLOAT_VALUE)));
    graph.addNode(node("Reshape", List.of(P + "mask", P + "to_rows"), P + "mask_rows"));
    graph.addNode(node("MatMul", List.of(P + "mask_rows", hidden), P + "summed"));
    NodeProto.Builder count = node("ReduceSum", List.of(P + "mask_rows"), P + "count");
    count.addAttribute(integer("keepdims", 1));
    if (opset >= 13) {
      graph.addInitializer(longs(P + "last_axis", 2));
      count.addInput(P + "last_axis");
    } else {
      count.addAttribute(
          AttributeProto.newBuilder()
              .setName("axes")
              .setType(AttributeProto.AttributeType.INTS)
              .addInts(2));
    }
    graph.addNode(count);
    graph.addNode(node("Max", List.of(P + "count", P + "one"), P + "count_at_least_one"));
    graph.addNode(node("Div", List.of(P + "summed", P + "count_at_least_one"), P + "pooled_rows"));
    graph.addNode(node("Reshape", List.of(P + "pooled_rows", P + "flat"), P + "pooled"));
    graph.addNode(
        node("Gemm", List.of(P + "pooled", WEIGHT, BIAS), LOGITS)
            .addAttribute(integer("transB", 1)));
    graph.clearOutput();
    graph.addOutput(
        ValueInfoProto.newBuilder()
            .setName(LOGITS)
            .setType(
                TypeProto.newBuilder()
                    .setTensorType(
                        TypeProto.Tensor.newBuilder()
                            .setElemType(TensorProto.DataType.FLOAT_VALUE)
                            .setShape(
                                TensorShapeProto.newBuilder()
                                    .addDim(
                                        TensorShapeProto.Dimension.newBuilder()
                                            .setDimParam("batch_size"))
                                    .addDim(
                                        TensorShapeProto.Dimension.newBuilder()
                                            .setDimValue(head.classes()))))));
    model.putMetadata(ClassLabels.METADATA_KEY, ClassLabels.id2label(names));
  }

  /**
   * Refuses, before any work, an encoder the head cannot be put on: no attention mask, no float
   * first output, an opset before 11, or names the head uses already taken (a classifier already).
   */
  public static void check(OnnxModel model) {
    GraphProto.Builder graph = model.proto().getGraphBuilder();
    if (graph.getInputList().stream().noneMatch(i -> i.getName().equals(MASK))) {
      throw new SparsifyException(
          "the encoder has no attention_mask input: its pooled output cannot leave out padding");
    }
    if (graph.getOutputCount() == 0) {
      throw new SparsifyException("the encoder has no outputs");
    }
    String hidden = graph.getOutput(0).getName();
    int type = graph.getOutput(0).getType().getTensorType().getElemType();
    if (type != TensorProto.DataType.FLOAT_VALUE) {
      throw new SparsifyException(
          "the encoder's first output "
              + hidden
              + " is not float32 (ONNX type "
              + type
              + "): the head is float32");
    }
    int opset = OpsetUpgrade.defaultOpset(model.proto());
    if (opset < 11) {
      throw new SparsifyException(
          "the encoder is opset " + opset + "; the head needs 11 or newer: export it again");
    }
    java.util.Set<String> taken = new java.util.HashSet<>();
    graph.getInitializerList().forEach(t -> taken.add(t.getName()));
    graph.getInputList().forEach(i -> taken.add(i.getName()));
    graph.getNodeList().forEach(n -> taken.addAll(n.getOutputList()));
    for (String name : taken) {
      if (name.equals(LOGITS) || name.startsWith("classifier.") || name.startsWith(P)) {
        throw new SparsifyException(
            "the encoder already has a tensor named "
                + name
                + ": is it a classifier already? The head's names (logits, classifier.*) must be"
                + " free");
      }
    }
  }

  private static NodeProto.Builder node(String op, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(output.startsWith(P) ? output : P + output)
        .addAllInput(inputs)
        .addOutput(output);
  }

  private static AttributeProto integer(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  private static TensorProto longs(String name, long... values) {
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.INT64_VALUE)
            .addDims(values.length);
    for (long v : values) {
      t.addInt64Data(v);
    }
    return t.build();
  }

  private static TensorProto floats(String name, float[] values, long... dims) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims.length == 0 ? new long[] {values.length} : dims) {
      t.addDims(d);
    }
    for (float v : values) {
      t.addFloatData(v);
    }
    return t.build();
  }
}
