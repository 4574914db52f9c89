package io.sparserollout.sparsify;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Path;
import java.util.Random;

/**
 * BERT-structured text encoders built in code with random weights (BERT's initialisation, normal
 * with standard deviation 0.02): token and position embeddings, then per layer multi-head
 * self-attention with the padding mask, a residual and LayerNormalization, and a GELU feed-forward
 * block, the operators torch.onnx writes for BERT. For measuring the cost of pruning a model of a
 * given depth and width where no such model can be downloaded; its outputs mean nothing.
 *
 * <p>{@code java -cp sparsify/target/test-classes:sparsify/target/sparsify.jar
 * io.sparserollout.sparsify.EncoderModels LAYERS HIDDEN HEADS FFN OUT.onnx}
 */
public final class EncoderModels {
  private static final int VOCAB = 30522;
  private static final int POSITIONS = 512;
  private static final int INT64 = TensorProto.DataType.INT64_VALUE;

  private EncoderModels() {}

  public static void main(String[] args) {
    ModelProto model =
        bert(
            Integer.parseInt(args[0]),
            Integer.parseInt(args[1]),
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]),
            VOCAB,
            11);
    TinyModels.write(model, Path.of(args[4]));
  }

  /** input_ids, attention_mask [batch, seq] -> last_hidden_state [batch, seq, hidden]. */
  public static ModelProto bert(int layers, int hidden, int heads, int ffn, int vocab, long seed) {
    Random random = new Random(seed);
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("bert-" + layers + "x" + hidden)
            .addInput(TinyModels.tensorInfo("input_ids", INT64, "batch", "seq"))
            .addInput(TinyModels.tensorInfo("attention_mask", INT64, "batch", "seq"))
            .addOutput(
                TinyModels.tensorInfo(
                    "last_hidden_state",
                    TensorProto.DataType.FLOAT_VALUE,
                    "batch",
                    "seq",
                    "hidden"));
    g.addInitializer(normal("word", random, vocab, hidden));
    g.addInitializer(normal("position", random, POSITIONS, hidden));
    g.addInitializer(ints("zero", new long[] {}, 0));
    g.addInitializer(ints("one", new long[] {}, 1));
    g.addInitializer(ints("mask.axes", new long[] {2}, 1, 2));
    g.addInitializer(ints("heads.shape", new long[] {4}, 0, 0, heads, hidden / heads));
    g.addInitializer(ints("hidden.shape", new long[] {3}, 0, 0, hidden));
    g.addInitializer(scalar("f.one", 1f));
    g.addInitializer(scalar("f.mask", -10000f));
    g.addInitializer(scalar("f.scale", (float) Math.sqrt((double) hidden / heads)));
    g.addInitializer(scalar("f.sqrt2", (float) Math.sqrt(2)));
    g.addInitializer(scalar("f.half", 0.5f));
    g.addNode(node("Gather", "tok", "word", "input_ids"));
    g.addNode(node("Shape", "shape", "input_ids"));
    g.addNode(node("Gather", "seq", "shape", "one"));
    g.addNode(node("Range", "pos.ids", "zero", "seq", "one"));
    g.addNode(node("Gather", "pos", "position", "pos.ids"));
    g.addNode(node("Add", "emb", "tok", "pos"));
    layerNorm(g, "emb", "h0", hidden);
    g.addNode(node("Unsqueeze", "mask.u", "attention_mask", "mask.axes"));
    g.addNode(cast(node("Cast", "mask.f", "mask.u")));
    g.addNode(node("Sub", "mask.inv", "f.one", "mask.f"));
    g.addNode(node("Mul", "mask", "mask.inv", "f.mask"));
    String x = "h0";
    for (int l = 0; l < layers; l++) {
      String p = "l" + l + ".";
      String q = heads(g, linear(g, random, p + "q", x, hidden, hidden), p + "q", 0, 2, 1, 3);
      String k = heads(g, linear(g, random, p + "k", x, hidden, hidden), p + "k", 0, 2, 3, 1);
      String v = heads(g, linear(g, random, p + "v", x, hidden, hidden), p + "v", 0, 2, 1, 3);
      g.addNode(node("MatMul", p + "scores", q, k));
      g.addNode(node("Div", p + "scaled", p + "scores", "f.scale"));
      g.addNode(node("Add", p + "masked", p + "scaled", "mask"));
      g.addNode(attribute(node("Softmax", p + "probs", p + "masked"), "axis", -1));
      g.addNode(node("MatMul", p + "ctx.h", p + "probs", v));
      g.addNode(perm(node("Transpose", p + "ctx.t", p + "ctx.h"), 0, 2, 1, 3));
      g.addNode(node("Reshape", p + "ctx", p + "ctx.t", "hidden.shape"));
      String attention = linear(g, random, p + "out", p + "ctx", hidden, hidden);
      g.addNode(node("Add", p + "res1", attention, x));
      layerNorm(g, p + "res1", p + "h1", hidden);
      String up = linear(g, random, p + "up", p + "h1", hidden, ffn);
      g.addNode(node("Div", p + "gelu.d", up, "f.sqrt2"));
      g.addNode(node("Erf", p + "gelu.e", p + "gelu.d"));
      g.addNode(node("Add", p + "gelu.a", p + "gelu.e", "f.one"));
      g.addNode(node("Mul", p + "gelu.m", up, p + "gelu.a"));
      g.addNode(node("Mul", p + "gelu", p + "gelu.m", "f.half"));
      String down = linear(g, random, p + "down", p + "gelu", ffn, hidden);
      g.addNode(node("Add", p + "res2", down, p + "h1"));
      x = l == layers - 1 ? "last_hidden_state" : p + "h2";
      layerNorm(g, p + "res2", x, hidden);
    }
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("sparserollout-tests")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(g)
        .build();
  }

  private static String linear(
      GraphProto.Builder g, Random random, String name, String x, int in, int out) {
    g.addInitializer(normal(name + ".weight", random, in, out));
    g.addInitializer(zeros(name + ".bias", out));
    g.addNode(node("MatMul", name + ".mm", x, name + ".weight"));
    g.addNode(node("Add", name, name + ".mm", name + ".bias"));
    return name;
  }

  private static String heads(GraphProto.Builder g, String x, String name, long... order) {
    g.addNode(node("Reshape", name + ".split", x, "heads.shape"));
    g.addNode(perm(node("Transpose", name + ".heads", name + ".split"), order));
    return name + ".heads";
  }

  private static void layerNorm(GraphProto.Builder g, String x, String out, int hidden) {
    g.addInitializer(ones(out + ".ln.weight", hidden));
    g.addInitializer(zeros(out + ".ln.bias", hidden));
    NodeProto norm = node("LayerNormalization", out, x, out + ".ln.weight", out + ".ln.bias");
    g.addNode(
        norm.toBuilder()
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("epsilon")
                    .setType(AttributeProto.AttributeType.FLOAT)
                    .setF(1e-12f)));
  }

  private static NodeProto node(String op, String output, String... inputs) {
    NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(output).addOutput(output);
    for (String input : inputs) {
      node.addInput(input);
    }
    return node.build();
  }

  private static NodeProto attribute(NodeProto node, String name, long value) {
    return node.toBuilder()
        .addAttribute(
            AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.INT)
                .setI(value))
        .build();
  }

  private static NodeProto perm(NodeProto node, long... order) {
    AttributeProto.Builder perm =
        AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS);
    for (long o : order) {
      perm.addInts(o);
    }
    return node.toBuilder().addAttribute(perm).build();
  }

  private static NodeProto cast(NodeProto node) {
    return attribute(node, "to", TensorProto.DataType.FLOAT_VALUE);
  }

  private static TensorProto normal(String name, Random random, long... dims) {
    return floats(name, dims, random::nextGaussian, 0.02f);
  }

  private static TensorProto zeros(String name, long size) {
    return floats(name, new long[] {size}, () -> 0, 0f);
  }

  private static TensorProto ones(String name, long size) {
    return floats(name, new long[] {size}, () -> 1, 1f);
  }

  private static TensorProto scalar(String name, float value) {
    return floats(name, new long[] {}, () -> 1, value);
  }

  private static TensorProto floats(
      String name, long[] dims, java.util.function.DoubleSupplier values, float scale) {
    return TinyModels.floats(name, dims, () -> values.getAsDouble() * scale);
  }

  private static TensorProto ints(String name, long[] dims, long... values) {
    TensorProto.Builder tensor =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
    for (long d : dims) {
      tensor.addDims(d);
    }
    for (long v : values) {
      tensor.addInt64Data(v);
    }
    return tensor.build();
  }
}
