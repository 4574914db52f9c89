package io.sparserollout.sparsify.head;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
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
    GraphNodes nodes = new GraphNodes(graph, P, OpsetUpgrade.defaultOpset(model.proto()));
    graph.addInitializer(GraphNodes.floats(WEIGHT, head.weight(), head.classes(), head.features()));
    graph.addInitializer(GraphNodes.floats(BIAS, head.bias(), head.classes()));
    String pooled = nodes.meanPool(hidden, nodes.floatMask(MASK, P + "mask"), "all");
    nodes.linear(pooled, WEIGHT, BIAS, LOGITS);
    nodes.onlyOutput(LOGITS, head.classes());
    model.putMetadata(ClassLabels.METADATA_KEY, ClassLabels.id2label(names));
  }

  /**
   * Refuses, before any work, an encoder the head cannot be put on: no attention mask, no float
   * first output, an opset before 11, or names the head uses already taken (a classifier already).
   */
  public static void check(OnnxModel model) {
    checkEncoder(model, List.of(MASK), List.of(LOGITS), "classifier.", P, "a classifier");
  }

  /**
   * What any head needs of the encoder: the {@code inputs} it reads, a float32 first output, opset
   * 11 or newer, and its own names free ({@code outputs}, and names starting with {@code
   * weightPrefix} or {@code nodePrefix}); {@code what} the encoder would be if they are taken.
   */
  static void checkEncoder(
      OnnxModel model,
      List<String> inputs,
      List<String> outputs,
      String weightPrefix,
      String nodePrefix,
      String what) {
    GraphProto.Builder graph = model.proto().getGraphBuilder();
    for (String input : inputs) {
      if (graph.getInputList().stream().noneMatch(i -> i.getName().equals(input))) {
        throw new SparsifyException(
            "the encoder has no "
                + input
                + " input"
                + (input.equals(MASK)
                    ? ": its pooled output cannot leave out padding"
                    : ": the head tells the query's tokens from the document's by it"));
      }
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
      if (outputs.contains(name) || name.startsWith(weightPrefix) || name.startsWith(nodePrefix)) {
        throw new SparsifyException(
            "the encoder already has a tensor named "
                + name
                + ": is it "
                + what
                + " already? The head's names ("
                + String.join(", ", outputs)
                + ", "
                + weightPrefix
                + "*) must be free");
      }
    }
  }
}
