package io.sparserollout.sparsify;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A small image classifier as paddle2onnx exports PaddleOCR's: opset 9, every weight in a {@code
 * Constant} node (no initializer), Clip, Slice and Pad with their opset-9 attributes.
 */
public final class ImageModels {
  public static final int CHANNELS = 8;
  public static final int SIDE = 8;

  private ImageModels() {}

  /**
   * x [batch, 3, 8, 8] -> Conv 3x3 (3 -> 8) -> Clip [0, 6] -> Pad 1 -> Conv 1x1 (8 -> 8, K = 8) ->
   * Relu -> Slice of the channels -> GlobalAveragePool -> Flatten -> MatMul [8, 2] -> Softmax.
   */
  public static ModelProto classifier(long seed) {
    Random random = new Random(seed);
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("image-classifier")
            .addInput(channelsFixed())
            .addOutput(
                TinyModels.tensorInfo("probabilities", TensorProto.DataType.FLOAT_VALUE, "b", "2"))
            .addNode(constant(TinyModels.floats("conv1.w", random, CHANNELS, 3, 3, 3)))
            .addNode(constant(TinyModels.floats("conv2.w", random, CHANNELS, CHANNELS, 1, 1)))
            .addNode(constant(TinyModels.floats("fc.w", random, CHANNELS, 2)))
            .addNode(
                TinyModels.ints(
                    TinyModels.node("Conv", "conv1", "c1", "x", "conv1.w"), "pads", 1, 1, 1, 1))
            .addNode(
                floatAttribute(
                    floatAttribute(TinyModels.node("Clip", "relu6", "c2", "c1"), "min", 0f),
                    "max",
                    6f))
            .addNode(
                TinyModels.ints(
                    TinyModels.node("Pad", "pad", "c3", "c2"), "pads", 0, 0, 1, 1, 0, 0, 1, 1))
            .addNode(TinyModels.node("Conv", "conv2", "c4", "c3", "conv2.w"))
            .addNode(TinyModels.node("Relu", "relu", "c5", "c4"))
            .addNode(
                TinyModels.ints(
                    TinyModels.ints(
                        TinyModels.ints(TinyModels.node("Slice", "slice", "c6", "c5"), "starts", 0),
                        "ends",
                        CHANNELS),
                    "axes",
                    1))
            .addNode(TinyModels.node("GlobalAveragePool", "pool", "p", "c6"))
            .addNode(TinyModels.node("Flatten", "flatten", "f", "p"))
            .addNode(TinyModels.node("MatMul", "fc", "logits", "f", "fc.w"))
            .addNode(TinyModels.node("Softmax", "softmax", "probabilities", "logits"));
    return TinyModels.model(graph).toBuilder()
        .clearOpsetImport()
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(9))
        .build();
  }

  /** Images [count, 3, 8, 8]: a bright blob at the left (label 0) or the right (label 1). */
  public static float[] images(int count, long seed) {
    Random random = new Random(seed);
    float[] x = new float[count * 3 * SIDE * SIDE];
    for (int i = 0; i < count; i++) {
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < SIDE; y++) {
          for (int col = 0; col < SIDE; col++) {
            boolean lit = (i % 2 == 0) == (col < SIDE / 2);
            x[((i * 3 + c) * SIDE + y) * SIDE + col] =
                (float) ((lit ? 1 : -1) * 0.8 + random.nextGaussian() * 0.3);
          }
        }
      }
    }
    return x;
  }

  /** An .npz file of float32 arrays as numpy.savez writes it, each with its shape. */
  public static Path npz(Path file, Map<String, float[]> arrays, Map<String, long[]> shapes) {
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Map.Entry<String, float[]> array : arrays.entrySet()) {
        zip.putNextEntry(new ZipEntry(array.getKey() + ".npy"));
        npy(array.getValue(), shapes.get(array.getKey()), "<f4").writeTo(zip);
        zip.closeEntry();
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One .npy array: the header names {@code descr} as given, the data is float32. */
  public static ByteArrayOutputStream npy(float[] values, long[] shape, String descr)
      throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
    ByteArrayOutputStream npy = new ByteArrayOutputStream();
    npy.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    npy.write(header.length() & 0xff);
    npy.write(header.length() >> 8);
    npy.write(header.getBytes(StandardCharsets.ISO_8859_1));
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    data.asFloatBuffer().put(values);
    npy.write(data.array());
    return npy;
  }

  /** x [batch, 3, height, width]: the channels fixed, as exporters declare them. */
  private static ai.onnx.proto.OnnxMl.ValueInfoProto channelsFixed() {
    var x = TinyModels.tensorInfo("x", TensorProto.DataType.FLOAT_VALUE, "b", "c", "h", "w");
    var builder = x.toBuilder();
    builder
        .getTypeBuilder()
        .getTensorTypeBuilder()
        .getShapeBuilder()
        .setDim(1, ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(3));
    return builder.build();
  }

  private static NodeProto constant(TensorProto value) {
    return NodeProto.newBuilder()
        .setOpType("Constant")
        .setName(value.getName() + ".constant")
        .addOutput(value.getName())
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("value")
                .setType(AttributeProto.AttributeType.TENSOR)
                .setT(value.toBuilder().clearName()))
        .build();
  }

  private static NodeProto floatAttribute(NodeProto node, String name, float value) {
    return node.toBuilder()
        .addAttribute(
            AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.FLOAT)
                .setF(value))
        .build();
  }
}
