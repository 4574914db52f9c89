package io.sparserollout.operator.rollout;

/**
 * Operator configuration for inference pods.
 *
 * @param image the inference-pod image (holds /opt/inference-pod/quarkus-run.jar)
 * @param fetchImage the sparsify image, whose fetch command copies s3:// and https:// models
 * @param port the port pods serve (and are scraped) on
 * @param minReadySeconds how long a pod is Ready before it counts as available (so the Service's
 *     endpoints and kube-proxy have caught up with it)
 */
public record ServingSettings(String image, String fetchImage, int port, int minReadySeconds) {
  public static final int DEFAULT_MIN_READY_SECONDS = 3;

  public ServingSettings {
    requireServingPort(port);
    requireMinReadySeconds(minReadySeconds);
  }

  /**
   * The seconds, unless no Deployment could take them: at least 0 and under the Deployment's
   * default progress deadline (600 s), past which the API server refuses the Deployment.
   */
  public static int requireMinReadySeconds(int seconds) {
    if (seconds < 0 || seconds >= 600) {
      throw new IllegalArgumentException(
          "sparserollout.serving.min-ready-seconds must be 0 to 599 (under a Deployment's"
              + " progress deadline): "
              + seconds);
    }
    return seconds;
  }

  public ServingSettings(String image, String fetchImage, int port) {
    this(image, fetchImage, port, DEFAULT_MIN_READY_SECONDS);
  }

  /** The port, unless the inference pod cannot serve there. */
  public static int requireServingPort(int port) {
    if (port == ServingResources.MANAGEMENT_PORT) {
      throw new IllegalArgumentException(
          "sparserollout.serving.port cannot be "
              + port
              + ": the inference pod answers its probes there (MANAGEMENT_PORT)");
    }
    if (port == ServingResources.GRPC_PORT) {
      throw new IllegalArgumentException(
          "sparserollout.serving.port cannot be "
              + port
              + ": the inference pod serves gRPC there (GRPC_PORT)");
    }
    return port;
  }
}
