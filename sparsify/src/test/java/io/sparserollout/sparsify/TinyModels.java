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

  private static ModelProto model(GraphProto.Builder graph) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("sparserollout-tests")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(graph)
        .build();
  }

  public static TensorProto floats(String name, Random random, long... dims) {
    long count = 1;
    for (long d : dims) {
      count *= d;
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      bytes.putFloat((float) random.nextGaussian() * 0.5f);
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

  private static NodeProto node(String op, String name, String output, String... inputs) {
    NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
    for (String input : inputs) {
      node.addInput(input);
    }
    return node.build();
  }

  private static ValueInfoProto tensorInfo(String name, int type, String... dims) {
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
