package io.sparserollout.operator.metrics;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.operator.events.EventRecorder;
import io.sparserollout.operator.pipeline.Stage;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;

/**
 * Prometheus metrics of the pipeline, next to JOSDK's own reconcile metrics (operator_sdk_*): phase
 * transitions, gate verdicts and stage durations (from the stage Job's start and end).
 */
@ApplicationScoped
public class PipelineMetrics {
  private final MeterRegistry registry;

  public PipelineMetrics(MeterRegistry registry) {
    this.registry = registry;
    // Each reason's series exists from the start at 0: increase() over a series that first
    // appears at 1 is 0, and the first StageFailed after a restart would never alert.
    for (EventRecorder.Reason reason : EventRecorder.Reason.values()) {
      counter(reason);
    }
  }

  public void transition(Phase to) {
    registry
        .counter("sparserollout.phase.transitions", "phase", to.name().toLowerCase())
        .increment();
    if (to == Phase.GATE_PASSED || to == Phase.GATE_FAILED) {
      registry
          .counter(
              "sparserollout.gate.results",
              "verdict",
              to == Phase.GATE_PASSED ? "passed" : "failed")
          .increment();
    }
  }

  /**
   * Counts an event the operator recorded on a model, by reason and type: what the shipped alerts
   * fire on (StageFailed, StageBlocked, RolledBack, ...), without one series per model.
   */
  public void event(EventRecorder.Reason reason) {
    counter(reason).increment();
  }

  private io.micrometer.core.instrument.Counter counter(EventRecorder.Reason reason) {
    return registry.counter(
        "sparserollout.events",
        "reason",
        reason.camelCase(),
        "type",
        reason.warning() ? "Warning" : "Normal");
  }

  /** Records how long a finished stage's Job ran. */
  public void stageFinished(Stage stage, Job job, boolean succeeded) {
    if (job.getStatus() == null || job.getStatus().getStartTime() == null) {
      return;
    }
    Instant start = Instant.parse(job.getStatus().getStartTime());
    String end = job.getStatus().getCompletionTime();
    Instant finish = end == null ? Instant.now() : Instant.parse(end);
    Timer.builder("sparserollout.stage.duration")
        .description("Wall time of a pipeline stage's Job")
        .tag("stage", stage.jobSuffix())
        .tag("outcome", succeeded ? "succeeded" : "failed")
        .register(registry)
        .record(Duration.between(start, finish));
  }
}
