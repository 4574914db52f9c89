package io.sparserollout.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.bytedeco.tensorrt.global.nvinfer.createInferRuntime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer.LayerInformationFormat;
import org.bytedeco.tensorrt.global.nvinfer.TensorIOMode;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * Runs a TensorRT plan: tensors bound by name, host data copied to the GPU and back on one CUDA
 * stream. One request at a time (the serving pod's batcher is the only caller). Not yet verified on
 * a GPU.
 */
public final class PlanRunner implements AutoCloseable {
  /**
   * An engine input or output: name, TensorRT datatype name (kFLOAT, kHALF...), dims (-1 dynamic).
   */
  public record Io(String name, String datatype, long[] shape, boolean input) {}

  /** Raw little-endian tensor data with its shape. */
  public record HostTensor(long[] shape, byte[] data) {}

  private final TensorRt.CapturingLogger logger;
  private final IRuntime runtime;
  private final ICudaEngine engine;
  private final IExecutionContext context;
  private final CUstream_st stream;
  private final List<Io> tensors = new ArrayList<>();

  public PlanRunner(byte[] plan) {
    TensorRt.device(); // before any native class loads: without a GPU, say so
    logger = new TensorRt.CapturingLogger();
    stream = new CUstream_st();
    runtime = createInferRuntime(logger);
    engine = runtime.deserializeCudaEngine(new BytePointer(plan), plan.length);
    if (engine == null || engine.isNull()) {
      throw new IllegalArgumentException(
          "TensorRT cannot load the plan (built by another TensorRT version or for another GPU?): "
              + logger.errors());
    }
    context = engine.createExecutionContext();
    TensorRt.check(cudaStreamCreate(stream), "cudaStreamCreate");
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      tensors.add(
          new Io(
              name,
              engine.getTensorDataType(name).name(),
              shape(engine.getTensorShape(name)),
              engine.getTensorIOMode(name) == TensorIOMode.kINPUT));
    }
  }

  public List<Io> tensors() {
    return List.copyOf(tensors);
  }

  /** Runs the engine on the given inputs (by name); returns every output. */
  public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
    List<Pointer> device = new ArrayList<>();
    try {
      for (Io io : tensors) {
        if (!io.input()) {
          continue;
        }
        HostTensor host = inputs.get(io.name());
        if (host == null) {
          throw new IllegalArgumentException("missing input " + io.name());
        }
        if (!context.setInputShape(io.name(), PlanBuilder.dims(host.shape()))) {
          throw new IllegalArgumentException(
              "input " + io.name() + " shape is outside the engine's optimization profile");
        }
        Pointer buffer = allocate(host.data().length, device);
        TensorRt.check(
            cudaMemcpyAsync(
                buffer,
                new BytePointer(host.data()),
                host.data().length,
                cudaMemcpyHostToDevice,
                stream),
            "cudaMemcpyAsync");
        context.setTensorAddress(io.name(), buffer);
      }
      Map<String, Pointer> outputBuffers = new LinkedHashMap<>();
      Map<String, long[]> outputShapes = new LinkedHashMap<>();
      for (Io io : tensors) {
        if (io.input()) {
          continue;
        }
        long[] shape = shape(context.getTensorShape(io.name()));
        long bytes = elements(shape) * width(io.datatype());
        Pointer buffer = allocate(bytes, device);
        context.setTensorAddress(io.name(), buffer);
        outputBuffers.put(io.name(), buffer);
        outputShapes.put(io.name(), shape);
      }
      if (!context.enqueueV3(stream)) {
        throw new IllegalStateException("TensorRT enqueue failed: " + logger.errors());
      }
      Map<String, HostTensor> outputs = new LinkedHashMap<>();
      for (Map.Entry<String, Pointer> output : outputBuffers.entrySet()) {
        long[] shape = outputShapes.get(output.getKey());
        Io io = tensors.stream().filter(t -> t.name().equals(output.getKey())).findFirst().get();
        BytePointer host = new BytePointer(elements(shape) * width(io.datatype()));
        TensorRt.check(
            cudaMemcpyAsync(
                host, output.getValue(), host.capacity(), cudaMemcpyDeviceToHost, stream),
            "cudaMemcpyAsync");
        outputs.put(output.getKey(), new HostTensor(shape, copyAfterSync(host)));
      }
      return outputs;
    } finally {
      device.forEach(p -> cudaFree(p));
    }
  }

  private byte[] copyAfterSync(BytePointer host) {
    TensorRt.check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    byte[] bytes = new byte[(int) host.capacity()];
    host.get(bytes);
    host.close();
    return bytes;
  }

  private static Pointer allocate(long bytes, List<Pointer> owned) {
    Pointer buffer = new Pointer();
    TensorRt.check(cudaMalloc(buffer, Math.max(1, bytes)), "cudaMalloc");
    owned.add(buffer);
    return buffer;
  }

  /** Bytes per element of a TensorRT datatype. */
  public static int width(String datatype) {
    return switch (datatype) {
      case "kFLOAT", "kINT32" -> 4;
      case "kHALF", "kBF16" -> 2;
      case "kINT64" -> 8;
      case "kINT8", "kUINT8", "kBOOL", "kFP8" -> 1;
      default ->
          throw new IllegalArgumentException("TensorRT datatype " + datatype + " is not served");
    };
  }

  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static long[] shape(Dims64 dims) {
    long[] shape = new long[dims.nbDims()];
    for (int d = 0; d < shape.length; d++) {
      shape[d] = dims.d(d);
    }
    return shape;
  }

  /** The engine inspector's per-layer JSON (tactics included, from detailed profiling). */
  static String inspect(byte[] plan, TensorRt.CapturingLogger logger) {
    try (IRuntime runtime = createInferRuntime(logger);
        ICudaEngine engine = runtime.deserializeCudaEngine(new BytePointer(plan), plan.length)) {
      return engine.createEngineInspector().getEngineInformation(LayerInformationFormat.kJSON);
    }
  }

  @Override
  public void close() {
    cudaStreamDestroy(stream);
    context.close();
    engine.close();
    runtime.close();
  }
}
