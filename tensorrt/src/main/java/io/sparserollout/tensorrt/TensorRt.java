package io.sparserollout.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * The TensorRT runtime of this process: native libraries loaded once, the GPU it runs on, and a
 * logger that keeps the builder's messages (the sparse-layer report is read from them). Every
 * failure to get there is a {@link TensorRtUnavailable} that says what is missing.
 */
public final class TensorRt {
  /** Sparse Tensor Cores came with Ampere (compute capability 8.0). */
  static final int SPARSE_MIN_MAJOR = 8;

  private TensorRt() {}

  /** The GPU this process runs on, checked for sparse Tensor Cores. */
  public record Device(String product, int major, int minor) {
    public String computeCapability() {
      return major + "." + minor;
    }
  }

  /** Loads the native libraries and returns the first GPU, or says why it cannot. */
  public static Device device() {
    if (!Gpus.driverPresent()) {
      throw new TensorRtUnavailable(
          "needs an NVIDIA GPU and driver; this node has none (no /dev/nvidia0)");
    }
    try {
      Loader.load(nvinfer.class);
      Loader.load(nvonnxparser.class);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new TensorRtUnavailable(
          "the TensorRT "
              + version()
              + " / CUDA native libraries cannot be loaded ("
              + e.getMessage()
              + "): the image needs them installed, or the org.bytedeco tensorrt and cuda"
              + " -redist jars of the pinned version on the class path",
          e);
    }
    int[] count = new int[1];
    int status = cudaGetDeviceCount(count);
    if (status != 0 || count[0] == 0) {
      throw new TensorRtUnavailable(
          "CUDA sees no GPU: " + (status != 0 ? cudaGetErrorString(status).getString() : "0"));
    }
    cudaDeviceProp properties = new cudaDeviceProp();
    check(cudaGetDeviceProperties(properties, 0), "cudaGetDeviceProperties");
    Device device =
        new Device(properties.name().getString().strip(), properties.major(), properties.minor());
    if (device.major() < SPARSE_MIN_MAJOR) {
      throw new TensorRtUnavailable(
          device.product()
              + " has compute capability "
              + device.computeCapability()
              + "; 2:4 sparse Tensor Cores need 8.0 or newer (Ampere, Hopper, Blackwell):"
              + " select such a GPU product in spec.engine.gpu");
    }
    return device;
  }

  /** The pinned TensorRT version these bindings are for (the library's own once loaded). */
  public static String version() {
    String bindings = nvinfer.class.getPackage().getImplementationVersion();
    return bindings == null ? "10.15" : bindings.replaceAll("-.*", "");
  }

  /** The loaded library's version, e.g. 10.15.1. */
  public static String libraryVersion() {
    int v = nvinfer.getInferLibVersion();
    return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
  }

  static void check(int cudaStatus, String call) {
    if (cudaStatus != 0) {
      throw new IllegalStateException(
          call + " failed: " + cudaGetErrorString(cudaStatus).getString());
    }
  }

  /** Keeps every message (the builder's sparse-layer report is among them); prints warnings. */
  static final class CapturingLogger extends ILogger {
    private final List<String> messages = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void log(Severity severity, String message) {
      messages.add(message);
      if (severity.value <= Severity.kWARNING.value) {
        System.err.println("TensorRT " + severity + ": " + message);
      }
    }

    List<String> messages() {
      return List.copyOf(messages);
    }

    /** The errors logged, for a failure message. */
    String errors() {
      return String.join("; ", messages.subList(Math.max(0, messages.size() - 5), messages.size()));
    }
  }
}
