package io.sparserollout.serving.backend;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the backend the pod's environment names. */
public final class Backends {
  private Backends() {}

  public static InferenceBackend open(String backend, Path model, int threads) {
    if (!Files.isRegularFile(model)) {
      throw new IllegalStateException("MODEL_PATH " + model + " is not a file");
    }
    return switch (backend) {
      case "onnxruntime" -> OnnxRuntimeBackend.open(model, threads);
      case "tensorrt" -> TensorRtBackend.open(model);
      default ->
          throw new IllegalStateException(
              "BACKEND=" + backend + " is unknown; use onnxruntime or tensorrt");
    };
  }
}
