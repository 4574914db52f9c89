package io.sparserollout.serving.backend;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.RawTensors;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import io.sparserollout.tensorrt.EngineKey;
import io.sparserollout.tensorrt.PlanRunner;
import io.sparserollout.tensorrt.TensorRt;
import io.sparserollout.tensorrt.TensorRtUnavailable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TensorRT plans on an NVIDIA GPU. Checked at start: a node without a GPU, without the native
 * libraries, or with another GPU product or TensorRT version than the plan was built for fails with
 * the reason instead of reporting ready. Not yet verified on a GPU.
 */
final class TensorRtBackend implements InferenceBackend {
  private final PlanRunner runner;
  private final List<TensorSpec> inputs = new ArrayList<>();
  private final List<TensorSpec> outputs = new ArrayList<>();

  private TensorRtBackend(PlanRunner runner) {
    this.runner = runner;
    for (PlanRunner.Io io : runner.tensors()) {
      TensorSpec spec = new TensorSpec(io.name(), datatype(io), io.shape());
      (io.input() ? inputs : outputs).add(spec);
    }
  }

  static InferenceBackend open(Path plan) {
    EngineKey built = builtFor(plan);
    try {
      TensorRt.Device device = TensorRt.device();
      EngineKey here =
          new EngineKey(
              built.modelDigest(),
              "tensorrt",
              built.precision(),
              TensorRt.libraryVersion(),
              device.product());
      String mismatch = built.mismatch(here);
      if (mismatch != null) {
        throw new IllegalStateException("BACKEND=tensorrt: " + mismatch);
      }
      return new TensorRtBackend(new PlanRunner(Files.readAllBytes(plan)));
    } catch (TensorRtUnavailable e) {
      throw new IllegalStateException(
          "BACKEND=tensorrt "
              + e.getMessage()
              + ": schedule the pod on a GPU node or serve with BACKEND=onnxruntime",
          e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the plan " + plan + ": " + e.getMessage(), e);
    }
  }

  /** This pod's GPU by CUDA's name, as plan keys record it; a pod without one says so. */
  static String deviceName() {
    try {
      return TensorRt.device().product();
    } catch (TensorRtUnavailable e) {
      throw new IllegalStateException(
          "BACKEND=tensorrt "
              + e.getMessage()
              + ": schedule the pod on a GPU node or serve with BACKEND=onnxruntime",
          e);
    }
  }

  /**
   * Of plans built on several GPU products, the one whose key names {@code device}: a plan runs
   * only on the product it was built on.
   */
  static Backends.Plan planFor(List<Backends.Plan> plans, String device) {
    List<String> builtOn = new ArrayList<>();
    for (Backends.Plan plan : plans) {
      String product;
      try {
        product = builtFor(plan.path()).device();
      } catch (IllegalStateException unreadable) {
        builtOn.add(plan.path() + " (" + unreadable.getMessage() + ")");
        continue; // another plan may still be this GPU's
      }
      if (device.equals(product)) {
        return plan;
      }
      builtOn.add(product);
    }
    throw new IllegalStateException(
        "BACKEND=tensorrt: this pod's GPU, "
            + device
            + ", has no plan: they were built on "
            + String.join(", ", builtOn));
  }

  /**
   * What the plan was built for, from the key the engine stage wrote beside it. Without it nothing
   * says the plan suits this GPU and TensorRT version, and a mismatch would only show as a failed
   * deserialization or wrong results: refused, checked before any GPU work.
   */
  static EngineKey builtFor(Path plan) {
    Path keyFile = EngineKey.fileFor(plan);
    if (!Files.isRegularFile(keyFile)) {
      throw new IllegalStateException(
          "BACKEND=tensorrt: the plan "
              + plan
              + " has no key file "
              + keyFile.getFileName()
              + " beside it, which the engine stage writes: nothing says which GPU product and"
              + " TensorRT version it was built for");
    }
    try {
      return new ObjectMapper().readValue(keyFile.toFile(), EngineKey.class);
    } catch (IOException e) {
      throw new IllegalStateException(
          "BACKEND=tensorrt: cannot read the plan's key file " + keyFile + ": " + e.getMessage(),
          e);
    }
  }

  @Override
  public String platform() {
    return "tensorrt_plan";
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
    Map<String, PlanRunner.HostTensor> feeds = new LinkedHashMap<>();
    for (Tensor t : request) {
      feeds.put(t.name(), new PlanRunner.HostTensor(t.shape(), littleEndian(t)));
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    Map<String, PlanRunner.HostTensor> results = runner.run(feeds);
    for (TensorSpec spec : outputs) {
      PlanRunner.HostTensor result = results.get(spec.name());
      out.put(
          spec.name(),
          new Tensor(
              spec.name(),
              spec.datatype(),
              result.shape(),
              fromLittleEndian(spec.datatype(), result.data())));
    }
    return out;
  }

  @Override
  public void close() {
    runner.close();
  }

  private static Datatype datatype(PlanRunner.Io io) {
    return switch (io.datatype()) {
      case "kFLOAT" -> Datatype.FP32;
      case "kHALF" -> Datatype.FP16;
      case "kINT32" -> Datatype.INT32;
      case "kINT64" -> Datatype.INT64;
      case "kINT8" -> Datatype.INT8;
      case "kUINT8" -> Datatype.UINT8;
      case "kBOOL" -> Datatype.BOOL;
      default ->
          throw new IllegalStateException(
              "tensor "
                  + io.name()
                  + " has TensorRT type "
                  + io.datatype()
                  + ", which this server does not serve");
    };
  }

  static byte[] littleEndian(Tensor t) {
    if (t.datatype() == Datatype.FP64 || t.datatype() == Datatype.BYTES) {
      throw new IllegalArgumentException(t.datatype() + " has no TensorRT counterpart");
    }
    return RawTensors.bytes(t.data());
  }

  static Object fromLittleEndian(Datatype datatype, byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    return switch (datatype) {
      case FP32 -> {
        float[] out = new float[bytes.length / 4];
        buffer.asFloatBuffer().get(out);
        yield out;
      }
      case FP16 -> {
        short[] out = new short[bytes.length / 2];
        buffer.asShortBuffer().get(out);
        yield out;
      }
      case INT32 -> {
        int[] out = new int[bytes.length / 4];
        buffer.asIntBuffer().get(out);
        yield out;
      }
      case INT64 -> {
        long[] out = new long[bytes.length / 8];
        buffer.asLongBuffer().get(out);
        yield out;
      }
      case BOOL -> {
        boolean[] out = new boolean[bytes.length];
        for (int i = 0; i < out.length; i++) {
          out[i] = bytes[i] != 0;
        }
        yield out;
      }
      default -> bytes;
    };
  }
}
