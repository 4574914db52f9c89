package io.sparserollout.sparsify;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small ONNX models built in code, so unit tests need no downloads. */
public final class TinyModels {
  private TinyModels() {}

  /**
   * A text encoder ONNX Runtime can run: input_ids -> token embedding [vocab, hidden] -> MatMul
   * [hidden, ffn] -> Relu -> MatMul [ffn, hidden] -> last_hidden_state.
   */
  public static ModelProto textEncoder(int vocab, int hidden, int ffn, long seed) {
    Random random = new Random(seed);
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("tiny-encoder")
            .addInput(tensorInfo("input_ids", TensorProto.DataType.INT64_VALUE, "batch", "seq"))
            .addInput(
                tensorInfo("attention_mask", TensorProto.DataType.INT64_VALUE, "batch", "seq"))
            .addOutput(
                tensorInfo("last_hidden_state", TensorProto.DataType.FLOAT_VALUE, "batch", "seq"))
            .addInitializer(floats("embeddings.word", random, vocab, hidden))
            .addInitializer(floats("ffn.up.weight", random, hidden, ffn))
            .addInitializer(floats("ffn.down.weight", random, ffn, hidden))
            .addNode(node("Gather", "embed", "h0", "embeddings.word", "input_ids"))
            .addNode(node("MatMul", "ffn.up", "h1", "h0", "ffn.up.weight"))
            .addNode(node("Relu", "act", "h2", "h1"))
            .addNode(node("MatMul", "ffn.down", "last_hidden_state", "h2", "ffn.down.weight"));
    return model(graph);
  }

  /**
   * {@link #textEncoder} that also reads token_type_ids, as BERT does: a type embedding [2, hidden]
   * added to the token embedding, so a pair's query and document tokens differ.
   */
  public static ModelProto pairEncoder(int vocab, int hidden, int ffn, long seed) {
    GraphProto.Builder graph = textEncoder(vocab, hidden, ffn, seed).getGraph().toBuilder();
    graph.setNode(0, node("Gather", "embed", "h0w", "embeddings.word", "input_ids"));
    graph
        .addInput(tensorInfo("token_type_ids", TensorProto.DataType.INT64_VALUE, "batch", "seq"))
        .addInitializer(floats("embeddings.type", new Random(seed + 1), 2, hidden))
        .addNode(1, node("Gather", "embed.type", "h0t", "embeddings.type", "token_type_ids"))
        .addNode(2, node("Add", "embed.sum", "h0", "h0w", "h0t"));
    return model(graph);
  }

  /**
   * {@link #textEncoder} with the chains exporters emit for layer normalization (after the
   * embedding) and exact GELU (between the two MatMuls), built from single operators and Constant
   * nodes as torch.onnx writes them.
   */
  public static ModelProto normalizedEncoder(int vocab, int hidden, int ffn, long seed) {
    Random random = new Random(seed);
    GraphProto.Builder graph =
        textEncoder(vocab, hidden, ffn, seed).getGraph().toBuilder()
            .clearNode()
            .addInitializer(floats("ln.weight", random, hidden))
            .addInitializer(floats("ln.bias", random, hidden))
            .addNode(node("Gather", "embed", "h0", "embeddings.word", "input_ids"))
            .addNode(lastAxis(node("ReduceMean", "ln.mean", "ln.m", "h0")))
            .addNode(node("Sub", "ln.sub", "ln.d", "h0", "ln.m"))
            .addNode(constant("ln.two", 2f))
            .addNode(node("Pow", "ln.pow", "ln.p", "ln.d", "ln.two"))
            .addNode(lastAxis(node("ReduceMean", "ln.var", "ln.v", "ln.p")))
            .addNode(constant("ln.eps", 1e-12f))
            .addNode(node("Add", "ln.addeps", "ln.ve", "ln.v", "ln.eps"))
            .addNode(node("Sqrt", "ln.sqrt", "ln.s", "ln.ve"))
            .addNode(node("Div", "ln.div", "ln.n", "ln.d", "ln.s"))
            .addNode(node("Mul", "ln.mul", "ln.g", "ln.n", "ln.weight"))
            .addNode(node("Add", "ln.add", "h1", "ln.g", "ln.bias"))
            .addNode(node("MatMul", "ffn.up", "u", "h1", "ffn.up.weight"))
            .addNode(constant("gelu.sqrt2", 1.4142135f))
            .addNode(node("Div", "gelu.div", "g.d", "u", "gelu.sqrt2"))
            .addNode(node("Erf", "gelu.erf", "g.e", "g.d"))
            .addNode(constant("gelu.one", 1f))
            .addNode(node("Add", "gelu.add", "g.a", "g.e", "gelu.one"))
            .addNode(node("Mul", "gelu.mul", "g.m", "u", "g.a"))
            .addNode(constant("gelu.half", 0.5f))
            .addNode(node("Mul", "gelu.half", "h2", "g.m", "gelu.half"))
            .addNode(node("MatMul", "ffn.down", "last_hidden_state", "h2", "ffn.down.weight"));
    return model(graph);
  }

  /**
   * A text CNN: input_ids -> embedding [vocab, dim] -> [batch, dim, seq] -> Conv1d [channels, dim,
   * 3] -> Relu -> Conv1d [dim, channels, 3] -> [batch, seq, dim]; both convolutions padded to keep
   * the length. Its embeddings share a common direction, as trained ones do.
   */
  public static ModelProto textCnn(int vocab, int dim, int channels, long seed) {
    Random random = new Random(seed);
    GraphProto.Builder graph =
        textEncoder(vocab, dim, channels, seed).getGraph().toBuilder()
            .clearNode()
            .clearInitializer()
            .addInitializer(anisotropic("embeddings.word", random, vocab, dim))
            .addInitializer(floats("conv1.weight", random, channels, dim, 3))
            .addInitializer(floats("conv2.weight", random, dim, channels, 3))
            .addNode(node("Gather", "embed", "h0", "embeddings.word", "input_ids"))
            .addNode(ints(node("Transpose", "to.channels", "c0", "h0"), "perm", 0, 2, 1))
            .addNode(ints(node("Conv", "conv1", "c1", "c0", "conv1.weight"), "pads", 1, 1))
            .addNode(node("Relu", "act", "c2", "c1"))
            .addNode(ints(node("Conv", "conv2", "c3", "c2", "conv2.weight"), "pads", 1, 1))
            .addNode(
                ints(node("Transpose", "to.tokens", "last_hidden_state", "c3"), "perm", 0, 2, 1));
    return model(graph);
  }

  /** Gaussian rows [count, dim] plus one shared offset vector. */
  private static TensorProto anisotropic(String name, Random random, int count, int dim) {
    float[] offset = new float[dim];
    for (int d = 0; d < dim; d++) {
      offset[d] = (float) random.nextGaussian();
    }
    int[] at = {0};
    return floats(
        name, new long[] {count, dim}, () -> random.nextGaussian() * 0.5 + offset[at[0]++ % dim]);
  }

  static NodeProto ints(NodeProto node, String name, long... values) {
    AttributeProto.Builder attribute =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      attribute.addInts(v);
    }
    return node.toBuilder().addAttribute(attribute).build();
  }

  private static NodeProto lastAxis(NodeProto reduceMean) {
    return reduceMean.toBuilder()
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("axes")
                .setType(AttributeProto.AttributeType.INTS)
                .addInts(-1))
        .build();
  }

  private static NodeProto constant(String output, float value) {
    ByteBuffer bytes = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
    bytes.flip();
    return NodeProto.newBuilder()
        .setOpType("Constant")
        .setName(output)
        .addOutput(output)
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("value")
                .setType(AttributeProto.AttributeType.TENSOR)
                .setT(
                    TensorProto.newBuilder()
                        .setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .setRawData(ByteString.copyFrom(bytes))))
        .build();
  }

  /** Linear layers of every kind LayerFinder knows; not meant to run. */
  public static ModelProto layerZoo(long seed) {
    Random random = new Random(seed);
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("zoo")
            .addInput(tensorInfo("x", TensorProto.DataType.FLOAT_VALUE, "batch", "k"))
            .addOutput(tensorInfo("y", TensorProto.DataType.FLOAT_VALUE, "batch", "n"))
            .addInitializer(floats("matmul.weight", random, 8, 12))
            .addInitializer(floats("gemm.weight", random, 12, 8))
            .addInitializer(floats("conv.weight", random, 6, 8, 3, 3))
            .addInitializer(floats("odd.weight", random, 6, 4))
            .addInitializer(floats("head.weight", random, 8, 4))
            .addNode(node("MatMul", "matmul", "a", "x", "matmul.weight"))
            .addNode(
                node("Gemm", "gemm", "b", "a", "gemm.weight").toBuilder()
                    .addAttribute(
                        AttributeProto.newBuilder()
                            .setName("transB")
                            .setType(AttributeProto.AttributeType.INT)
                            .setI(1)))
            .addNode(node("Conv", "conv", "c", "img", "conv.weight"))
            .addNode(node("MatMul", "odd", "d", "e", "odd.weight"))
            .addNode(node("MatMul", "head", "y", "b", "head.weight"))
            .addNode(node("MatMul", "activations", "z", "a", "b"));
    return model(graph);
  }

  public static Path write(ModelProto model, Path file) {
    try {
      Files.write(file, model.toByteArray());
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ModelProto model(GraphProto.Builder graph) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("sparserollout-tests")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(graph)
        .build();
  }

  public static TensorProto floats(String name, Random random, long... dims) {
    return floats(name, dims, () -> random.nextGaussian() * 0.5);
  }

  /** A float tensor of the given shape filled from {@code values}. */
  public static TensorProto floats(
      String name, long[] dims, java.util.function.DoubleSupplier values) {
    long count = 1;
    for (long d : dims) {
      count *= d;
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < count; i++) {
      bytes.putFloat((float) values.getAsDouble());
    }
    bytes.flip();
    TensorProto.Builder tensor =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(bytes));
    for (long d : dims) {
      tensor.addDims(d);
    }
    return tensor.build();
  }

  static NodeProto node(String op, String name, String output, String... inputs) {
    NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
    for (String input : inputs) {
      node.addInput(input);
    }
    return node.build();
  }

  static ValueInfoProto tensorInfo(String name, int type, String... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (String d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
        .build();
  }
}
