package io.sparserollout.operator.metrics;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The Java Operator SDK's metrics (reconciliations, events, per resource), bound to the registry
 * /q/metrics exports. The extension's default hands the SDK a no-op until Micrometer binds it, and
 * an operator whose SDK asked first went without its metrics for the whole run (seen in CI as
 * /q/metrics lacking every operator_sdk series); this binds them when they are made.
 */
@Singleton
public class JosdkMetrics {

  @Produces
  @Singleton
  Metrics metrics(MeterRegistry registry) {
    return MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry).build();
  }
}
