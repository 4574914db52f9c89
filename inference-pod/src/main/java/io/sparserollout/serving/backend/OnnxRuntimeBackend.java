package io.sparserollout.serving.backend;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ONNX models on the CPU through ONNX Runtime. */
final class OnnxRuntimeBackend implements InferenceBackend {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;

  private OnnxRuntimeBackend(OrtSession session) throws OrtException {
    this.session = session;
    this.inputs = specs(session.getInputInfo());
    this.outputs = specs(session.getOutputInfo());
  }

  static InferenceBackend open(Path model, int threads) {
    try {
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (threads > 0) {
        options.setIntraOpNumThreads(threads);
      }
      return new OnnxRuntimeBackend(ENV.createSession(model.toString(), options));
    } catch (OrtException e) {
      throw new IllegalStateException(
          "ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String platform() {
    return "onnxruntime_onnx";
  }

  @Override
  public List<TensorSpec> inputs() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs() {
    return outputs;
  }

  @Override
  public Map<String, Tensor> infer(List<Tensor> request) {
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      for (Tensor t : request) {
        feeds.put(t.name(), toOnnx(t));
      }
      try (OrtSession.Result result = session.run(feeds)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorSpec spec : outputs) {
          OnnxTensor tensor = (OnnxTensor) result.get(spec.name()).orElseThrow();
          out.put(spec.name(), fromOnnx(spec, tensor));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new BadRequest("the model rejected the request: " + e.getMessage());
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      // closing frees native memory only
    }
  }

  private static OnnxTensor toOnnx(Tensor t) throws OrtException {
    long[] shape = t.shape();
    return switch (t.datatype()) {
      case FP32 -> OnnxTensor.createTensor(ENV, FloatBuffer.wrap((float[]) t.data()), shape);
      case FP64 -> OnnxTensor.createTensor(ENV, DoubleBuffer.wrap((double[]) t.data()), shape);
      case INT64 -> OnnxTensor.createTensor(ENV, LongBuffer.wrap((long[]) t.data()), shape);
      case INT32 -> OnnxTensor.createTensor(ENV, IntBuffer.wrap((int[]) t.data()), shape);
      case INT16 -> OnnxTensor.createTensor(ENV, ShortBuffer.wrap((short[]) t.data()), shape);
      case FP16 ->
          OnnxTensor.createTensor(
              ENV, ShortBuffer.wrap((short[]) t.data()), shape, OnnxJavaType.FLOAT16);
      case BYTES -> OnnxTensor.createTensor(ENV, (String[]) t.data(), shape);
      case INT8 ->
          OnnxTensor.createTensor(ENV, direct((byte[]) t.data()), shape, OnnxJavaType.INT8);
      case UINT8 ->
          OnnxTensor.createTensor(ENV, direct((byte[]) t.data()), shape, OnnxJavaType.UINT8);
      case BOOL -> {
        boolean[] values = (boolean[]) t.data();
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
          bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        yield OnnxTensor.createTensor(ENV, direct(bytes), shape, OnnxJavaType.BOOL);
      }
    };
  }

  private static Tensor fromOnnx(TensorSpec spec, OnnxTensor tensor) {
    long[] shape = tensor.getInfo().getShape();
    Object data =
        switch (spec.datatype()) {
          case FP32 -> copy(tensor.getFloatBuffer());
          case FP64 -> {
            DoubleBuffer b = tensor.getDoubleBuffer();
            double[] out = new double[b.remaining()];
            b.get(out);
            yield out;
          }
          case INT64 -> {
            LongBuffer b = tensor.getLongBuffer();
            long[] out = new long[b.remaining()];
            b.get(out);
            yield out;
          }
          case INT32 -> {
            IntBuffer b = tensor.getIntBuffer();
            int[] out = new int[b.remaining()];
            b.get(out);
            yield out;
          }
          case BYTES -> strings(tensor);
          case INT16, FP16 -> {
            ShortBuffer b = tensor.getShortBuffer();
            short[] out = new short[b.remaining()];
            b.get(out);
            yield out;
          }
          case INT8, UINT8 -> {
            ByteBuffer b = tensor.getByteBuffer();
            byte[] out = new byte[b.remaining()];
            b.get(out);
            yield out;
          }
          case BOOL -> {
            ByteBuffer b = tensor.getByteBuffer();
            boolean[] out = new boolean[b.remaining()];
            for (int i = 0; i < out.length; i++) {
              out[i] = b.get() != 0;
            }
            yield out;
          }
        };
    return new Tensor(spec.name(), spec.datatype(), shape, data);
  }

  /** String tensors come back as nested arrays, one level per dimension. */
  private static String[] strings(OnnxTensor tensor) {
    try {
      List<String> out = new ArrayList<>();
      flatten(tensor.getValue(), out);
      return out.toArray(String[]::new);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot read string output: " + e.getMessage(), e);
    }
  }

  private static void flatten(Object value, List<String> out) {
    if (value instanceof String s) {
      out.add(s);
    } else {
      for (int i = 0; i < java.lang.reflect.Array.getLength(value); i++) {
        flatten(java.lang.reflect.Array.get(value, i), out);
      }
    }
  }

  private static float[] copy(FloatBuffer b) {
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  private static ByteBuffer direct(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
    buffer.put(bytes).flip();
    return buffer;
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo info : infos.values()) {
      if (!(info.getInfo() instanceof TensorInfo tensor)) {
        throw new IllegalStateException(
            info.getName() + " is not a tensor; only tensors are served");
      }
      specs.add(
          new TensorSpec(info.getName(), datatype(tensor.type, info.getName()), tensor.getShape()));
    }
    return specs;
  }

  private static Datatype datatype(OnnxJavaType type, String name) {
    return switch (type) {
      case FLOAT -> Datatype.FP32;
      case DOUBLE -> Datatype.FP64;
      case INT64 -> Datatype.INT64;
      case INT32 -> Datatype.INT32;
      case INT16 -> Datatype.INT16;
      case FLOAT16 -> Datatype.FP16;
      case STRING -> Datatype.BYTES;
      case INT8 -> Datatype.INT8;
      case UINT8 -> Datatype.UINT8;
      case BOOL -> Datatype.BOOL;
      default ->
          throw new IllegalStateException(
              "tensor " + name + " has ONNX type " + type + ", which this server does not serve");
    };
  }
}
