package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.TensorBatch;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import org.bytedeco.pytorch.Tensor;

/** ONNX tensors (initializers, Constant values) as libtorch tensors, and back to Java arrays. */
final class TorchTensors {
  private TorchTensors() {}

  static Tensor of(TensorProto proto, OnnxModel model) {
    long[] dims = proto.getDimsList().stream().mapToLong(Long::longValue).toArray();
    return switch (proto.getDataType()) {
      case TensorProto.DataType.FLOAT_VALUE ->
          Tensor.create(model != null ? model.floats(proto.getName()) : floats(proto), dims);
      case TensorProto.DataType.INT64_VALUE -> Tensor.create(longs(proto), dims);
      case TensorProto.DataType.INT32_VALUE -> Tensor.create(ints(proto), dims);
      default ->
          throw new SparsifyException(
              "tensor "
                  + proto.getName()
                  + " has ONNX data type "
                  + proto.getDataType()
                  + "; fine-tuning reads float32, int64 and int32 tensors");
    };
  }

  /** A tensor input given in an .npz file: its buffer copied, its element type kept. */
  static Tensor of(TensorBatch.Input input) {
    Buffer values = input.values().duplicate(); // from its position, as ONNX Runtime reads it
    if (values instanceof FloatBuffer f) {
      float[] copy = new float[f.remaining()];
      f.get(copy);
      return Tensor.create(copy, input.shape());
    }
    if (values instanceof LongBuffer l) {
      long[] copy = new long[l.remaining()];
      l.get(copy);
      return Tensor.create(copy, input.shape());
    }
    int[] ints = new int[values.remaining()];
    ((IntBuffer) values).get(ints);
    return Tensor.create(ints, input.shape());
  }

  static float[] floats(TensorProto proto) {
    int count = Math.toIntExact(OnnxModel.elementCount(proto));
    float[] values = new float[count];
    if (proto.getFloatDataCount() > 0) {
      for (int i = 0; i < count; i++) {
        values[i] = proto.getFloatData(i);
      }
    } else {
      proto
          .getRawData()
          .asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(values);
    }
    return values;
  }

  static long[] longs(TensorProto proto) {
    int count = Math.toIntExact(OnnxModel.elementCount(proto));
    long[] values = new long[count];
    if (proto.getInt64DataCount() > 0) {
      for (int i = 0; i < count; i++) {
        values[i] = proto.getInt64Data(i);
      }
    } else {
      proto
          .getRawData()
          .asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asLongBuffer()
          .get(values);
    }
    return values;
  }

  /** int32 values (paddle2onnx writes shapes and fill values so): in int32_data or raw. */
  static int[] ints(TensorProto proto) {
    int count = Math.toIntExact(OnnxModel.elementCount(proto));
    int[] values = new int[count];
    if (proto.getInt32DataCount() > 0) {
      for (int i = 0; i < count; i++) {
        values[i] = proto.getInt32Data(i);
      }
    } else {
      proto
          .getRawData()
          .asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asIntBuffer()
          .get(values);
    }
    return values;
  }

  static float[] toFloats(Tensor t) {
    try (Tensor c = t.contiguous()) {
      FloatBuffer buffer = c.createBuffer();
      float[] out = new float[buffer.remaining()];
      buffer.get(out);
      return out;
    }
  }

  static double[] toDoubles(Tensor t) {
    try (Tensor c = t.contiguous()) {
      java.nio.DoubleBuffer buffer = c.createBuffer();
      double[] out = new double[buffer.remaining()];
      buffer.get(out);
      return out;
    }
  }

  /** The values as int64, whatever integer type holds them (int32 constants too). */
  static long[] toLongs(Tensor t) {
    try (Tensor c = t.to(org.bytedeco.pytorch.global.torch.ScalarType.Long).contiguous()) {
      LongBuffer buffer = c.createBuffer();
      long[] out = new long[buffer.remaining()];
      buffer.get(out);
      return out;
    }
  }

  static long[] shape(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.size(i);
    }
    return shape;
  }
}
