package io.sparserollout.serving.backend;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TensorRT plans run only on an NVIDIA GPU with its driver. Serving TensorRT plans is not part of
 * this build yet; on a node without a GPU the pod fails at start with the reason, rather than
 * reporting ready and failing every request.
 */
final class TensorRtBackend {
  private TensorRtBackend() {}

  static InferenceBackend open(Path plan) {
    if (!Files.exists(Path.of("/dev/nvidiactl")) && !Files.exists(Path.of("/dev/nvidia0"))) {
      throw new IllegalStateException(
          "BACKEND=tensorrt needs an NVIDIA GPU and driver, and this node has none (no"
              + " /dev/nvidia0): schedule the pod on a GPU node or serve with BACKEND=onnxruntime");
    }
    throw new IllegalStateException(
        "BACKEND=tensorrt: serving TensorRT plans is not implemented in this build yet (not"
            + " verified on a GPU); serve the ONNX model with BACKEND=onnxruntime");
  }
}
