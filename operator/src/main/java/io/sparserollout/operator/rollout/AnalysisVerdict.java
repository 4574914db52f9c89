package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.operator.rollout.Confidence.Interval;
import java.util.Locale;

/**
 * One analysis of the canary against the spec's thresholds, judged on confidence intervals rather
 * than point estimates: it passes only when the evidence shows the canary good enough, fails once
 * it shows it worse, and otherwise waits for more samples (see docs/operations.md).
 *
 * @param agreement the interval of the mean shadow agreement (NaN ends: none measured)
 * @param errorRate the Wilson interval of the failed-request rate (NaN ends: no requests)
 */
public record AnalysisVerdict(
    Outcome outcome,
    String message,
    Measurement measurement,
    Interval agreement,
    Interval errorRate) {
  public enum Outcome {
    PASSED,
    FAILED,
    /** Not enough evidence either way (too few requests or comparisons): neither. */
    INCONCLUSIVE
  }

  static final double DEFAULT_CONFIDENCE = 0.95;
  static final int DEFAULT_MIN_SAMPLES = 30;

  public AnalysisVerdict(Outcome outcome, String message, Measurement measurement) {
    this(outcome, message, measurement, Interval.UNKNOWN, Interval.UNKNOWN);
  }

  public static AnalysisVerdict judge(Measurement m, AnalysisSpec spec) {
    double z = Confidence.z(spec.confidence() == null ? DEFAULT_CONFIDENCE : spec.confidence());
    int minSamples = spec.minSamples() == null ? DEFAULT_MIN_SAMPLES : spec.minSamples();
    if (m.requests() == 0) {
      return new AnalysisVerdict(
          Outcome.INCONCLUSIVE, "no requests have reached the canary yet", m);
    }
    if (!Double.isFinite(m.requests())
        || !Double.isFinite(m.errors())
        || !Double.isFinite(m.agreementSum())
        || !Double.isFinite(m.agreementCount())) {
      return new AnalysisVerdict(
          Outcome.INCONCLUSIVE, "the canary's counters are not numbers (NaN or infinite)", m);
    }
    Interval errors = Confidence.wilson(m.errors(), m.requests(), z);
    Interval agreement =
        Confidence.mean(m.agreementSum(), m.disagreementSquares(), m.agreementCount(), z);
    Judged judged = new Judged(m, agreement, errors);
    double maxErrorRate = spec.maxErrorRate();
    // No failure tolerated: no interval can show a rate below 0, so any failure fails.
    boolean errorsWorse = maxErrorRate == 0 ? m.errors() > 0 : errors.low() > maxErrorRate;
    if (errorsWorse) {
      return judged.failed(
          "error rate %.4f %s > maxErrorRate %.4f", m.errorRate(), text(errors), maxErrorRate);
    }
    double p99 = m.p99Ms();
    // Below 100 requests the p99 is the slowest request (a cold start, say), not a percentile.
    boolean p99Judged = m.requests() >= Math.max(minSamples, 100);
    if (spec.maxP99LatencyMs() != null
        && p99Judged
        && !Double.isNaN(p99)
        && p99 > spec.maxP99LatencyMs()) {
      return judged.failed(
          "p99 latency %.1f ms > maxP99LatencyMs %.1f", p99, spec.maxP99LatencyMs());
    }
    if (m.agreementCount() == 0) {
      return judged.waiting("no shadow comparisons with the dense baseline yet");
    }
    double confidence = spec.confidence() == null ? DEFAULT_CONFIDENCE : spec.confidence();
    double early = Confidence.hoeffdingHigh(m.agreementSum(), m.agreementCount(), confidence);
    if (m.agreementCount() < minSamples && early < spec.minAgreement()) {
      // Clearly worse already: a bound that holds at any sample size says so.
      return judged.failed(
          "shadow agreement %.4f over %.0f comparisons, at most %.4f (Hoeffding) < minAgreement"
              + " %.4f",
          m.agreement(), m.agreementCount(), early, spec.minAgreement());
    }
    if (m.agreementCount() < minSamples) {
      return judged.waiting(
          "%.0f of minSamples %d shadow comparisons (agreement %.4f so far)",
          m.agreementCount(), minSamples, m.agreement());
    }
    if (agreement.high() < spec.minAgreement()) {
      return judged.failed(
          "shadow agreement %.4f %s < minAgreement %.4f",
          m.agreement(), text(agreement), spec.minAgreement());
    }
    if (maxErrorRate > 0 && errors.high() > maxErrorRate) {
      return judged.waiting(
          "error rate %.4f %s over %.0f requests: not yet shown within maxErrorRate %.4f",
          m.errorRate(), text(errors), m.requests(), maxErrorRate);
    }
    if (agreement.low() < spec.minAgreement()) {
      return judged.waiting(
          "shadow agreement %.4f %s over %.0f comparisons: not yet shown above minAgreement %.4f",
          m.agreement(), text(agreement), m.agreementCount(), spec.minAgreement());
    }
    if (m.requests() < minSamples) {
      return judged.waiting("%.0f of minSamples %d requests", m.requests(), minSamples);
    }
    if (spec.maxP99LatencyMs() != null && !p99Judged) {
      return judged.waiting("%.0f requests: p99 latency is judged from 100 on", m.requests());
    }
    return new AnalysisVerdict(
        Outcome.PASSED,
        String.format(
            Locale.ROOT,
            "agreement %.4f %s, error rate %.4f %s, p99 %.1f ms over %.0f requests",
            m.agreement(),
            text(agreement),
            m.errorRate(),
            text(errors),
            p99,
            m.requests()),
        m,
        agreement,
        errors);
  }

  private static String text(Interval interval) {
    return String.format(Locale.ROOT, "[%.4f, %.4f]", interval.low(), interval.high());
  }

  /** A measurement with its intervals, becoming a verdict. */
  private record Judged(Measurement m, Interval agreement, Interval errors) {
    AnalysisVerdict failed(String format, Object... args) {
      return new AnalysisVerdict(
          Outcome.FAILED, String.format(Locale.ROOT, format, args), m, agreement, errors);
    }

    AnalysisVerdict waiting(String format, Object... args) {
      return new AnalysisVerdict(
          Outcome.INCONCLUSIVE, String.format(Locale.ROOT, format, args), m, agreement, errors);
    }
  }
}
