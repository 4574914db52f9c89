package io.sparserollout.operator.rollout;

/**
 * Operator configuration for inference pods.
 *
 * @param image the inference-pod image (holds /opt/inference-pod/quarkus-run.jar)
 * @param fetchImage the sparsify image, whose fetch command copies s3:// and https:// models
 * @param port the port pods serve (and are scraped) on
 */
public record ServingSettings(String image, String fetchImage, int port) {}
