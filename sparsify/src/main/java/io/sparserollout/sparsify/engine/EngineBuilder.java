package io.sparserollout.sparsify.engine;

import io.sparserollout.stage.EngineResult;
import java.nio.file.Path;

/**
 * The seam between the pipeline and an inference engine: ONNX Runtime on CPU, TensorRT on GPU. Both
 * write an artifact into the output directory and report the measured sparse/dense speed-up; for
 * variants, both build one engine per variant and hand {@link VariantTimer} a runner for each.
 */
public interface EngineBuilder {
  EngineResult build(EngineRequest request);

  /**
   * One variant's engine (name: dense or sparse, then fp32, fp16 or int8) written into {@code
   * outDir}; refuses a model that is not what the name says.
   */
  Built buildVariant(String name, Path model, Path outDir, int[] batch, int[] sequence);

  /** Ready to run the built engine at any shape within its profile. */
  VariantTimer.Runner runner(Built built);

  /** A variant's engine file, the ONNX model it came from, and what the backend reports. */
  record Built(
      String name,
      Path model,
      Path file,
      Integer sparseLayers,
      String runtimeVersion,
      String tensorrtVersion,
      String gpuProduct) {}

  static EngineBuilder forBackend(String backend) {
    return switch (backend) {
      case "onnxruntime" -> new OnnxRuntimeEngineBuilder();
      case "tensorrt" -> new TensorRtEngineBuilder();
      default ->
          throw new io.sparserollout.sparsify.SparsifyException(
              "unknown backend " + backend + "; use onnxruntime or tensorrt");
    };
  }
}
