package io.sparserollout.sparsify.engine;

import io.sparserollout.stage.EngineResult;

/**
 * The seam between the pipeline and an inference engine: ONNX Runtime on CPU, TensorRT on GPU. Both
 * write an artifact into the output directory and report the measured sparse/dense speed-up.
 */
public interface EngineBuilder {
  EngineResult build(EngineRequest request);

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
