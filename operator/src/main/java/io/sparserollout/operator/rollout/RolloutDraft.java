package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.RolloutStatus;

/** A mutable copy of {@link RolloutStatus} while the planner works on it. */
final class RolloutDraft {
  String stable;
  String canary;
  Integer step;
  Integer weight;
  String stepStartedAt;
  String lastAnalysisAt;
  Integer passed;
  Integer failures;
  Double agreement;
  Double errorRate;
  Double p99LatencyMs;
  Boolean awaitingPromotion;
  String message;

  static RolloutDraft of(RolloutStatus s) {
    RolloutDraft d = new RolloutDraft();
    if (s != null) {
      d.stable = s.stableRevision();
      d.canary = s.canaryRevision();
      d.step = s.step();
      d.weight = s.canaryWeight();
      d.stepStartedAt = s.stepStartedAt();
      d.lastAnalysisAt = s.lastAnalysisAt();
      d.passed = s.passed();
      d.failures = s.failures();
      d.agreement = s.agreement();
      d.errorRate = s.errorRate();
      d.p99LatencyMs = s.p99LatencyMs();
      d.awaitingPromotion = s.awaitingPromotion();
      d.message = s.message();
    }
    return d;
  }

  /** Forgets the canary: after promotion, rollback clean-up or a superseding revision. */
  void clearCanary() {
    canary = null;
    step = null;
    weight = null;
    stepStartedAt = null;
    lastAnalysisAt = null;
    passed = null;
    failures = null;
    awaitingPromotion = null;
  }

  void record(Measurement m) {
    agreement = finite(m.agreement(), 4);
    errorRate = finite(m.errorRate(), 4);
    p99LatencyMs = finite(m.p99Ms(), 1);
  }

  private static Double finite(double value, int digits) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return null;
    }
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  RolloutStatus build() {
    return new RolloutStatus(
        stable,
        canary,
        step,
        weight,
        stepStartedAt,
        lastAnalysisAt,
        passed,
        failures,
        agreement,
        errorRate,
        p99LatencyMs,
        awaitingPromotion,
        message);
  }
}
