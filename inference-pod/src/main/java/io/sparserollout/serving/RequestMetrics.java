package io.sparserollout.serving;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparserollout.stage.ServingMetrics;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Counts infer requests by outcome and times them, the same series for REST and gRPC: the canary
 * analysis and the alerts judge a model on all of its traffic.
 */
@Singleton
public class RequestMetrics {
  private final MeterRegistry registry;
  private final String model;
  private final Timer latency;

  public RequestMetrics(ModelService model, MeterRegistry registry) {
    this.registry = registry;
    this.model = model.name();
    // Every outcome's series exists from the start at 0: a rate() or increase() over a series
    // that first appears at 1 misses that first request (the alerts would miss the first 5xx).
    for (String outcome :
        List.of(
            ServingMetrics.SUCCESS,
            ServingMetrics.CLIENT_ERROR,
            ServingMetrics.OVERLOADED,
            ServingMetrics.SERVER_ERROR)) {
      registry.counter(
          ServingMetrics.REQUESTS,
          ServingMetrics.MODEL,
          this.model,
          ServingMetrics.OUTCOME,
          outcome);
    }
    this.latency =
        Timer.builder(ServingMetrics.REQUEST_DURATION)
            .description("Inference request latency, parsing to response")
            .tag(ServingMetrics.MODEL, this.model)
            .publishPercentileHistogram()
            .register(registry);
  }

  /** Counts a request under its outcome: success, client_error, overloaded or server_error. */
  public void record(long start, String outcome) {
    registry
        .counter(
            ServingMetrics.REQUESTS, ServingMetrics.MODEL, model, ServingMetrics.OUTCOME, outcome)
        .increment();
    latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
  }
}
