package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.rollout.Confidence.Interval;
import io.sparserollout.operator.rollout.RolloutPlan.Notice;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * After promotion, the stable's shadow agreement with the dense baseline, judged on what came since
 * the last reading (its pods' counters only grow): shown below minAgreement at the analysis
 * confidence for spec.rollout.analysis.driftWindow, the model has drifted; shown above again, it
 * has recovered. Pure: the caller reads the counters and passes the time.
 */
public final class DriftWatch {
  private DriftWatch() {}

  /** The new watch state, and the event it calls for (null: none). */
  public record Outcome(DriftStatus status, Notice notice) {}

  /**
   * @param previous the watch so far (null: none yet)
   * @param stable the promoted revision
   * @param m its ready pods' counters now, summed
   */
  public static Outcome next(
      DriftStatus previous, String stable, Measurement m, AnalysisSpec spec, Instant now) {
    if (!Double.isFinite(m.agreementSum()) || !Double.isFinite(m.agreementCount())) {
      return new Outcome(previous, null);
    }
    if (previous == null || !stable.equals(previous.revision())) {
      return new Outcome(
          checkpoint(stable, m, now, null, null, null, false, "watching " + stable + " from here"),
          null);
    }
    double count = m.agreementCount() - previous.comparisons();
    double sum = m.agreementSum() - previous.agreementSum();
    if (count < 0 || sum < 0) {
      // Counters went back: pods were replaced. Judge from their counters on.
      return new Outcome(
          checkpoint(
              stable,
              m,
              now,
              previous.agreement(),
              previous.intervalComparisons(),
              previous.belowSince(),
              previous.drifting(),
              "the pods' counters restarted; judging from here"),
          null);
    }
    int minSamples =
        spec.minSamples() == null ? AnalysisVerdict.DEFAULT_MIN_SAMPLES : spec.minSamples();
    if (count < minSamples) {
      // Too little since the last reading: keep it, so the next reading judges more.
      return new Outcome(previous, null);
    }
    double squares = m.disagreementSquares() - orNaN(previous.disagreementSquares());
    double z =
        Confidence.z(
            spec.confidence() == null ? AnalysisVerdict.DEFAULT_CONFIDENCE : spec.confidence());
    Interval interval = Confidence.mean(sum, squares, count, z);
    double agreement = sum / count;
    double min = spec.minAgreement();
    boolean below = interval.high() < min;
    boolean above = interval.low() >= min;
    String belowSince =
        below
            ? (previous.belowSince() != null ? previous.belowSince() : previous.checkedAt())
            : above ? null : previous.belowSince();
    boolean was = Boolean.TRUE.equals(previous.drifting());
    Duration window = GoDuration.parse(spec.driftWindow());
    boolean drifting =
        below && !Instant.parse(belowSince).plus(window).isAfter(now) || (was && !above);
    String words =
        String.format(
            Locale.ROOT,
            "shadow agreement of %s with the dense model %.4f [%.4f, %.4f] over %.0f comparisons"
                + " since %s: %s minAgreement %.4f",
            stable,
            agreement,
            interval.low(),
            interval.high(),
            count,
            previous.checkedAt(),
            below ? "below" : above ? "at or above" : "not yet shown against",
            min);
    String message =
        drifting
            ? words + "; below since " + belowSince + ", the drift window is " + spec.driftWindow()
            : words;
    Notice notice =
        drifting && !was
            ? new Notice(Reason.QUALITY_DRIFT, message)
            : was && !drifting ? new Notice(Reason.QUALITY_RECOVERED, message) : null;
    return new Outcome(
        checkpoint(stable, m, now, agreement, count, belowSince, drifting, message), notice);
  }

  private static DriftStatus checkpoint(
      String stable,
      Measurement m,
      Instant now,
      Double agreement,
      Double count,
      String belowSince,
      Boolean drifting,
      String message) {
    return new DriftStatus(
        stable,
        now.toString(),
        m.agreementSum(),
        m.agreementCount(),
        Double.isFinite(m.disagreementSquares()) ? m.disagreementSquares() : null,
        agreement == null ? null : Math.round(agreement * 1e4) / 1e4,
        count,
        belowSince,
        drifting,
        message);
  }

  private static double orNaN(Double value) {
    return value == null ? Double.NaN : value;
  }
}
