package io.sparserollout.operator.pipeline;

/**
 * Operator-wide settings of stage Jobs.
 *
 * @param image the sparsify image (holds /opt/sparsify/sparsify.jar)
 * @param backoffLimit pod retries of a failing stage before the stage (and pipeline) fails
 */
public record JobSettings(String image, int backoffLimit) {}
