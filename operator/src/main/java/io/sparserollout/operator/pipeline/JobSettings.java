package io.sparserollout.operator.pipeline;

import java.time.Duration;

/**
 * Operator-wide settings of one stage's Job.
 *
 * @param image the sparsify image (holds /opt/sparsify/sparsify.jar)
 * @param backoffLimit pod retries of a failing stage before the stage (and pipeline) fails
 * @param deadline the longest the Job may run (its activeDeadlineSeconds), retries included
 */
public record JobSettings(String image, int backoffLimit, Duration deadline) {}
