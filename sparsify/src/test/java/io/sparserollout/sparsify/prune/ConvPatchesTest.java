package io.sparserollout.sparsify.prune;

import static org.assertj.core.api.Assertions.assertThat;
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
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.text.OrtModel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConvPatchesTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /**
   * Patches times the weight rows are the convolution ONNX Runtime computes, position by position.
   */
  @Test
  void patchesTimesWeightRowsAreTheConvolution2d() throws Exception {
    NodeProto conv =
        attributes(
            NodeProto.newBuilder().setOpType("Conv").setName("c").addInput("x").addInput("w"),
            "strides",
            List.of(2L, 1L),
            "pads",
            List.of(1L, 0L, 2L, 1L),
            "dilations",
            List.of(1L, 2L));
    assertConvolutionMatches(conv, new long[] {2, 8, 7, 9}, new long[] {5, 8, 3, 2});
  }

  @Test
  void patchesTimesWeightRowsAreTheConvolution1d() throws Exception {
    NodeProto conv =
        attributes(
            NodeProto.newBuilder().setOpType("Conv").setName("c").addInput("x").addInput("w"),
            "strides",
            List.of(2L),
            "pads",
            List.of(2L, 1L),
            "dilations",
            List.of(1L));
    assertConvolutionMatches(conv, new long[] {3, 4, 11}, new long[] {6, 4, 3});
  }

  /** More positions than one chunk holds, and not a multiple of it: the last chunk is partial. */
  @Test
  void theGramOverManyChunksIsTheGramOfEveryPosition() {
    long[] shape = {3, 4, 1500};
    float[] x = gaussian(new Random(5), shape);
    ConvPatches patches =
        ConvPatches.of(NodeProto.newBuilder().setOpType("Conv").build(), new long[] {8, 4, 1});
    double[] gram = new double[16];
    patches.addGram(gram, new OrtModel.FloatTensor(shape, x));
    double[] expected = new double[16];
    for (int n = 0; n < 3; n++) {
      for (int l = 0; l < 1500; l++) {
        for (int i = 0; i < 4; i++) {
          for (int j = 0; j < 4; j++) {
            expected[i * 4 + j] += (double) x[(n * 4 + i) * 1500 + l] * x[(n * 4 + j) * 1500 + l];
          }
        }
      }
    }
    for (int i = 0; i < 16; i++) {
      assertThat(gram[i]).isCloseTo(expected[i], within(1e-2 * Math.abs(expected[i]) + 1e-2));
    }
  }

  @Test
  void aConvolutionTooWideToUnfoldIsRefusedWithItsSize() {
    NodeProto conv = NodeProto.newBuilder().setOpType("Conv").build();
    assertThat(ConvPatches.unsupported(conv, new long[] {64, 2048, 3, 3}))
        .contains("too wide to unfold (18432 inputs per output");
  }

  @Test
  void groupedAndAutoPaddedConvolutionsAreNotUnfolded() {
    NodeProto grouped =
        NodeProto.newBuilder()
            .setOpType("Conv")
            .addAttribute(AttributeProto.newBuilder().setName("group").setI(2))
            .build();
    assertThat(ConvPatches.unsupported(grouped, new long[] {4, 4, 3, 3})).contains("grouped");
    NodeProto same =
        NodeProto.newBuilder()
            .setOpType("Conv")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("auto_pad")
                    .setS(com.google.protobuf.ByteString.copyFromUtf8("SAME_UPPER")))
            .build();
    assertThat(ConvPatches.unsupported(same, new long[] {4, 4, 3, 3})).contains("SAME_UPPER");
    assertThat(ConvPatches.unsupported(same, new long[] {4, 4, 3, 3, 3})).contains("3-D");
  }

  @Test
  void weightRowsRoundTrip() {
    NodeProto conv = NodeProto.newBuilder().setOpType("Conv").build();
    ConvPatches patches = ConvPatches.of(conv, new long[] {3, 4, 2, 2});
    float[] w = new float[3 * 4 * 4];
    for (int i = 0; i < w.length; i++) {
      w[i] = i;
    }
    assertThat(patches.fromRows(patches.toRows(w))).containsExactly(w);
    // Row 0, tap 0: the first four columns are input channels 0..3 at kernel position (0, 0).
    assertThat(java.util.Arrays.copyOf(patches.toRows(w), 4)).containsExactly(0, 4, 8, 12);
  }

  private static void assertConvolutionMatches(NodeProto conv, long[] xShape, long[] wShape)
      throws Exception {
    Random random = new Random(9);
    float[] x = gaussian(random, xShape);
    TensorProto weight = TinyModels.floats("w", random, wShape);
    float[] w = new float[(int) count(wShape)];
    weight
        .getRawData()
        .asReadOnlyByteBuffer()
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(w);
    float[] expected = run(conv, weight, x, xShape);

    ConvPatches patches = ConvPatches.of(conv, wShape);
    float[] rows = patches.toRows(w);
    int out = (int) wShape[0];
    int columns = patches.columns();
    List<float[]> products = new ArrayList<>(); // per output position, the out channels
    patches.forEachChunk(
        new OrtModel.FloatTensor(xShape, x),
        (chunk, n) -> {
          for (int p = 0; p < n; p++) {
            float[] y = new float[out];
            for (int o = 0; o < out; o++) {
              for (int j = 0; j < columns; j++) {
                y[o] += chunk[p * columns + j] * rows[o * columns + j];
              }
            }
            products.add(y);
          }
        });
    int positionsPerImage = products.size() / (int) xShape[0];
    assertThat(expected).hasSize(products.size() * out);
    for (int p = 0; p < products.size(); p++) {
      int image = p / positionsPerImage;
      int at = p % positionsPerImage;
      for (int o = 0; o < out; o++) {
        float actual = products.get(p)[o];
        assertThat(actual)
            .isCloseTo(expected[(image * out + o) * positionsPerImage + at], within(1e-3f));
      }
    }
  }

  private static float[] run(NodeProto conv, TensorProto weight, float[] x, long[] shape)
      throws Exception {
    GraphProto graph =
        GraphProto.newBuilder()
            .addNode(conv.toBuilder().addOutput("y"))
            .addInitializer(weight)
            .addInput(info("x"))
            .addOutput(info("y"))
            .build();
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
            .setGraph(graph)
            .build();
    try (OrtSession session = ENV.createSession(model.toByteArray());
        OnnxTensor input = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), shape);
        OrtSession.Result result = session.run(Map.of("x", input))) {
      FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
      float[] out = new float[y.remaining()];
      y.get(out);
      return out;
    }
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

  private static NodeProto attributes(NodeProto.Builder node, Object... pairs) {
    for (int i = 0; i < pairs.length; i += 2) {
      @SuppressWarnings("unchecked")
      List<Long> values = (List<Long>) pairs[i + 1];
      node.addAttribute(
          AttributeProto.newBuilder()
              .setName((String) pairs[i])
              .setType(AttributeProto.AttributeType.INTS)
              .addAllInts(values));
    }
    return node.build();
  }

  private static float[] gaussian(Random random, long[] shape) {
    float[] values = new float[(int) count(shape)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
