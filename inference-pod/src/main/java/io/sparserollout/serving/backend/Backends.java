package io.sparserollout.serving.backend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Opens the backend the pod's environment names. */
public final class Backends {
  private Backends() {}

  /** A TensorRT plan and the digest its file must have (null: not checked). */
  public record Plan(Path path, String sha256) {}

  /** Of plans built on several GPU products, the one for this pod's GPU; says why there is none. */
  public static Plan planForThisGpu(List<Plan> plans) {
    return TensorRtBackend.planFor(plans, TensorRtBackend.deviceName());
  }

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
