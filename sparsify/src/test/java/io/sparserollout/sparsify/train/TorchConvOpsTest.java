package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchConvOpsTest {
  private static final long[] PIXELS = {2, 4, 9, 10};

  @TempDir Path dir;

  /**
   * A small image network using every CNN operator the interpreter declares, with the awkward forms
   * (asymmetric pads, strides, dilations, pads excluded from averages), run by libtorch and by ONNX
   * Runtime on the same input.
   */
  @Test
  void runsAConvolutionalNetworkAsOnnxRuntimeDoes() throws Exception {
    ModelProto model = imageNetwork("nearest");
    Path file = TinyModels.write(model, dir.resolve("cnn.onnx"));
    float[] pixels = new float[2 * 4 * 9 * 10];
    Random random = new Random(3);
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) random.nextGaussian();
    }
    Map<String, float[]> expected = onnxRuntime(model, pixels);
    try (TorchGraph graph = TorchGraph.of(OnnxModel.load(file))) {
      Map<String, Tensor> out =
          graph.forward(Map.of("pixels", Tensor.create(pixels, PIXELS)), List.of("up", "out"));
      for (String name : List.of("up", "out")) {
        float[] actual = TorchTensors.toFloats(out.get(name));
        assertThat(actual).hasSameSizeAs(expected.get(name));
        for (int i = 0; i < actual.length; i++) {
          assertThat(actual[i])
              .as(name + "[" + i + "]")
              .isCloseTo(expected.get(name)[i], within(1e-4f));
        }
      }
    }
  }

  @Test
  void aFormItDoesNotImplementIsRefusedByNameAndNode() {
    Path file = TinyModels.write(imageNetwork("linear"), dir.resolve("linear.onnx"));
    assertThatThrownBy(() -> TorchGraph.of(OnnxModel.load(file)))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("Resize in mode linear (only nearest) (node up)");

    // Pad's optional axes (opset 18): left empty it pads every axis; given, it is refused.
    for (String axes : new String[] {"", "axes"}) {
      GraphProto.Builder g =
          GraphProto.newBuilder()
              .addInput(info("pixels"))
              .addOutput(info("out"))
              .addNode(node("Pad", "out", "pixels", "pads", "", axes));
      ModelProto model =
          ModelProto.newBuilder()
              .setIrVersion(8)
              .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(18))
              .setGraph(g)
              .build();
      Path pad = TinyModels.write(model, dir.resolve("pad" + axes + ".onnx"));
      if (axes.isEmpty()) {
        TorchGraph.of(OnnxModel.load(pad)).close();
      } else {
        assertThatThrownBy(() -> TorchGraph.of(OnnxModel.load(pad)))
            .hasMessageContaining("Pad of some axes only (node out)");
      }
    }
  }

  @Test
  void batchNormStatisticsAreNotTrainable() {
    Path file = TinyModels.write(imageNetwork("nearest"), dir.resolve("bn.onnx"));
    try (TorchGraph graph = TorchGraph.of(OnnxModel.load(file))) {
      assertThat(graph.runningStatistics()).containsExactly("bn.mean", "bn.var");
    }
  }

  private static ModelProto imageNetwork(String resizeMode) {
    Random random = new Random(1);
    double[] scale = {1, 1, 2, 2};
    int[] at = {0};
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .addInput(info("pixels"))
            .addOutput(info("up"))
            .addOutput(info("out"))
            .addInitializer(TinyModels.floats("c1.w", random, 8, 4, 3, 3))
            .addInitializer(TinyModels.floats("c1.b", random, 8))
            .addInitializer(TinyModels.floats("bn.scale", random, 8))
            .addInitializer(TinyModels.floats("bn.bias", random, 8))
            .addInitializer(TinyModels.floats("bn.mean", random, 8))
            .addInitializer(
                TinyModels.floats("bn.var", new long[] {8}, () -> 0.5 + random.nextDouble()))
            .addInitializer(TinyModels.floats("zero", new long[] {}, () -> 0))
            .addInitializer(TinyModels.floats("six", new long[] {}, () -> 0.6))
            .addInitializer(TinyModels.floats("c2.w", random, 8, 8, 1, 3))
            .addInitializer(TinyModels.floats("scales", new long[] {4}, () -> scale[at[0]++]));
    g.addNode(
        ints(node("Conv", "c1", "pixels", "c1.w", "c1.b"), "strides", 2, 2, "pads", 1, 0, 2, 1));
    g.addNode(node("BatchNormalization", "bn", "c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"));
    g.addNode(node("Clip", "clip", "bn", "zero", "six"));
    g.addNode(ints(node("MaxPool", "maxpool", "clip"), "kernel_shape", 3, 3, "pads", 1, 1, 1, 1));
    g.addNode(ints(node("Conv", "c2", "maxpool", "c2.w"), "pads", 0, 2, 0, 2, "dilations", 1, 2));
    g.addNode(node("Relu", "relu", "c2"));
    g.addNode(ints(node("AveragePool", "avg", "relu"), "kernel_shape", 2, 2, "pads", 0, 0, 1, 1));
    g.addNode(
        node("Resize", "up", "avg", "", "scales").toBuilder()
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("mode")
                    .setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8(resizeMode))));
    g.addNode(node("Sigmoid", "gate", "up"));
    g.addNode(
        node("Concat", "both", "up", "gate").toBuilder()
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("axis")
                    .setType(AttributeProto.AttributeType.INT)
                    .setI(1)));
    g.addNode(node("GlobalAveragePool", "pooled", "both"));
    g.addNode(node("Flatten", "out", "pooled"));
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(g)
        .build();
  }

  /**
   * MobileNetV3's activations and the Pad and Slice forms exporters write: an asymmetric Pad with
   * its pads and value as inputs, HardSigmoid with non-default alpha and beta, HardSwish, a Slice
   * whose int32 inputs start from the end and run past it, and one without axes.
   */
  @Test
  void mobileNetActivationsPadAndSliceRunAsOnnxRuntimeRunsThem() throws Exception {
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .addInput(info("pixels"))
            .addOutput(info("out"))
            .addInitializer(longs("pads", 0, 0, 1, 2, 0, 0, 3, 0))
            .addInitializer(TinyModels.floats("value", new long[] {}, () -> 0.5))
            .addInitializer(int32s("starts", -5, 1))
            .addInitializer(int32s("ends", Integer.MAX_VALUE, 7))
            .addInitializer(int32s("axes", 2, 3))
            .addInitializer(int32s("first", 0))
            .addInitializer(int32s("one", 1));
    g.addNode(node("Pad", "padded", "pixels", "pads", "value"));
    g.addNode(
        floats(node("HardSigmoid", "hs", "padded"), "alpha", 0.3f).toBuilder()
            .addAttribute(floatAttribute("beta", 0.4f))
            .build());
    g.addNode(node("HardSwish", "hw", "padded"));
    g.addNode(node("Add", "sum", "hs", "hw"));
    g.addNode(node("Slice", "cut", "sum", "starts", "ends", "axes"));
    g.addNode(node("Slice", "out", "cut", "first", "one"));
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(14))
            .setGraph(g)
            .build();
    float[] pixels = new float[2 * 4 * 9 * 10];
    Random random = new Random(5);
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) (4 * random.nextGaussian());
    }

    float[] expected = onnxRuntime(model, pixels, "out");
    try (TorchGraph graph =
        TorchGraph.of(OnnxModel.load(TinyModels.write(model, dir.resolve("mobile.onnx"))))) {
      Tensor out =
          graph.forward(Map.of("pixels", Tensor.create(pixels, PIXELS)), List.of("out")).get("out");
      assertThat(TorchTensors.shape(out)).containsExactly(1, 4, 5, 6);
      float[] actual = TorchTensors.toFloats(out);
      assertThat(actual).hasSameSizeAs(expected);
      for (int i = 0; i < actual.length; i++) {
        assertThat(actual[i]).as("out[" + i + "]").isCloseTo(expected[i], within(1e-5f));
      }
    }
  }

  private static Map<String, float[]> onnxRuntime(ModelProto model, float[] pixels)
      throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(model.toByteArray());
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), PIXELS);
        OrtSession.Result result = session.run(Map.of("pixels", input))) {
      return Map.of("up", floats(result, "up"), "out", floats(result, "out"));
    }
  }

  private static float[] onnxRuntime(ModelProto model, float[] pixels, String output)
      throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(model.toByteArray());
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), PIXELS);
        OrtSession.Result result = session.run(Map.of("pixels", input))) {
      return floats(result, output);
    }
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

  private static TensorProto int32s(String name, int... values) {
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.INT32_VALUE)
            .addDims(values.length);
    for (int v : values) {
      t.addInt32Data(v);
    }
    return t.build();
  }

  private static NodeProto floats(NodeProto node, String name, float value) {
    return node.toBuilder().addAttribute(floatAttribute(name, value)).build();
  }

  private static AttributeProto floatAttribute(String name, float value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.FLOAT)
        .setF(value)
        .build();
  }

  private static float[] floats(OrtSession.Result result, String name) {
    FloatBuffer buffer = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  private static NodeProto node(String op, String output, String... inputs) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(output)
        .addOutput(output)
        .addAllInput(List.of(inputs))
        .build();
  }

  /** Adds INTS attributes given as name, values..., name, values... */
  private static NodeProto ints(NodeProto node, Object... spec) {
    NodeProto.Builder builder = node.toBuilder();
    AttributeProto.Builder attribute = null;
    for (Object item : spec) {
      if (item instanceof String name) {
        if (attribute != null) {
          builder.addAttribute(attribute);
        }
        attribute =
            AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
      } else {
        attribute.addInts(((Integer) item).longValue());
      }
    }
    builder.addAttribute(attribute);
    return builder.build();
  }

  private static ValueInfoProto info(String name) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)))
        .build();
  }
}
