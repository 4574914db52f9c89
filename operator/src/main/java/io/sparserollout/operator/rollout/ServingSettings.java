package io.sparserollout.operator.rollout;

/**
 * Operator configuration for inference pods.
 *
 * @param image the inference-pod image (holds /opt/inference-pod/quarkus-run.jar)
 * @param fetchImage the sparsify image, whose fetch command copies s3:// and https:// models
 * @param port the port pods serve (and are scraped) on
 */
public record ServingSettings(String image, String fetchImage, int port) {
  public ServingSettings {
    if (port == ServingResources.MANAGEMENT_PORT) {
      throw new IllegalArgumentException(
          "the serving port cannot be "
              + port
              + ": the inference pod answers its probes there (MANAGEMENT_PORT)");
    }
  }
}
