package io.sparserollout.sparsify.engine;

import io.sparserollout.sparsify.SparsifyException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TensorRT sparse engines (kSPARSE_WEIGHTS) are built on the GPU product that serves them. This
 * build has no TensorRT engine builder yet (the inference-pod issue brings it); on a machine
 * without an NVIDIA driver it fails fast either way, with the reason.
 */
final class TensorRtEngineBuilder implements EngineBuilder {
  @Override
  public EngineReport build(EngineRequest request) {
    if (!Files.exists(Path.of("/dev/nvidiactl")) && !Files.exists(Path.of("/dev/nvidia0"))) {
      throw new SparsifyException(
          "the tensorrt backend needs an NVIDIA GPU and driver; this node has none (no"
              + " /dev/nvidia0): schedule the engine stage on a GPU node or use backend onnxruntime");
    }
    throw new SparsifyException(
        "the TensorRT engine builder is not part of this sparsify build yet (not verified on a"
            + " GPU); use backend onnxruntime");
  }
}
