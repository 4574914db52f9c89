package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import java.util.Locale;

/** One analysis of the canary against the spec's thresholds. */
public record AnalysisVerdict(Outcome outcome, String message, Measurement measurement) {
  public enum Outcome {
    PASSED,
    FAILED,
    /** Not enough data to judge (no requests or no shadow comparisons yet): neither. */
    INCONCLUSIVE
  }

  public static AnalysisVerdict judge(Measurement m, AnalysisSpec spec) {
    if (m.requests() == 0) {
      return new AnalysisVerdict(
          Outcome.INCONCLUSIVE, "no requests have reached the canary yet", m);
    }
    if (m.errorRate() > spec.maxErrorRate()) {
      return failed(m, "error rate %.4f > maxErrorRate %.4f", m.errorRate(), spec.maxErrorRate());
    }
    double p99 = m.p99Ms();
    if (spec.maxP99LatencyMs() != null && !Double.isNaN(p99) && p99 > spec.maxP99LatencyMs()) {
      return failed(m, "p99 latency %.1f ms > maxP99LatencyMs %.1f", p99, spec.maxP99LatencyMs());
    }
    if (m.agreementCount() == 0) {
      return new AnalysisVerdict(
          Outcome.INCONCLUSIVE, "no shadow comparisons with the dense baseline yet", m);
    }
    if (m.agreement() < spec.minAgreement()) {
      return failed(
          m, "shadow agreement %.4f < minAgreement %.4f", m.agreement(), spec.minAgreement());
    }
    return new AnalysisVerdict(
        Outcome.PASSED,
        String.format(
            Locale.ROOT,
            "agreement %.4f, error rate %.4f, p99 %.1f ms over %.0f requests",
            m.agreement(),
            m.errorRate(),
            p99,
            m.requests()),
        m);
  }

  private static AnalysisVerdict failed(Measurement m, String format, Object... args) {
    return new AnalysisVerdict(Outcome.FAILED, String.format(Locale.ROOT, format, args), m);
  }
}
