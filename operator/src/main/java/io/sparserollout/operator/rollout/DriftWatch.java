package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.Pod;
import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.rollout.Confidence.Interval;
import io.sparserollout.operator.rollout.RolloutPlan.Notice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * After promotion, the stable's shadow agreement with the dense baseline, judged on what came since
 * the last reading: the same ready pods' counters, which only grow. Shown below minAgreement at the
 * analysis confidence by a reading, and still by one a driftWindow later with none shown above
 * between, the model has drifted; shown above again, it has recovered. Pure: the caller reads the
 * counters and passes the time.
 */
public final class DriftWatch {
  private DriftWatch() {}

  /** The new watch state, and the event it calls for (null: none). */
  public record Outcome(DriftStatus status, Notice notice) {}

  /**
   * @param previous the watch so far (null: none yet)
   * @param stable the promoted revision
   * @param pods which pods the counters were summed over (names and restarts): counters are only
   *     compared between readings of the same pods
   * @param m those pods' counters now, summed
   */
  public static Outcome next(
      DriftStatus previous,
      String stable,
      String pods,
      Measurement m,
      AnalysisSpec spec,
      Instant now) {
    if (!Double.isFinite(m.agreementSum()) || !Double.isFinite(m.agreementCount())) {
      return new Outcome(previous, null);
    }
    if (previous == null || !stable.equals(previous.revision())) {
      return new Outcome(
          checkpoint(
              stable, pods, m, now, null, null, null, false, "watching " + stable + " from here"),
          null);
    }
    double count = m.agreementCount() - previous.comparisons();
    double sum = m.agreementSum() - previous.agreementSum();
    if (!pods.equals(previous.pods()) || count < 0 || sum < 0 || sum > count) {
      // Another set of pods (scaled, replaced, restarted, one not ready): their sums are not
      // comparable with the last ones. Judge from these on; the verdict so far stands.
      return new Outcome(
          checkpoint(
              stable,
              pods,
              m,
              now,
              previous.agreement(),
              previous.intervalComparisons(),
              previous.belowSince(),
              previous.drifting(),
              Boolean.TRUE.equals(previous.drifting())
                  ? previous.message()
                  : "the stable's ready pods changed; judging from their counters now"),
          null);
    }
    int minSamples =
        spec.minSamples() == null ? AnalysisVerdict.DEFAULT_MIN_SAMPLES : spec.minSamples();
    if (count < minSamples) {
      // Too little since the last reading (quiet traffic): keep it, so the next judges more.
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
    // The window starts at the first reading shown below, not at the older checkpoint it was
    // judged from: one reading over a long quiet spell is not a sustained drop.
    String belowSince =
        below
            ? (previous.belowSince() != null ? previous.belowSince() : now.toString())
            : above ? null : previous.belowSince();
    boolean was = Boolean.TRUE.equals(previous.drifting());
    Duration window = GoDuration.parse(spec.driftWindow());
    boolean sustained = below && !Instant.parse(belowSince).plus(window).isAfter(now);
    boolean drifting = sustained || (was && !above);
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
        checkpoint(stable, pods, m, now, agreement, count, belowSince, drifting, message), notice);
  }

  /** Whether the stable's pods are due for a reading: an interval after the last one. */
  public static boolean due(DriftStatus previous, String stable, Duration interval, Instant now) {
    return previous == null
        || !stable.equals(previous.revision())
        || previous.checkedAt() == null
        || !Instant.parse(previous.checkedAt()).plus(interval).isAfter(now);
  }

  /** Pods' names and container restarts, hashed: a restarted container counts from 0 again. */
  public static String podsRead(List<Pod> pods) {
    String names =
        pods.stream()
            .map(p -> p.getMetadata().getName() + ":" + restarts(p))
            .sorted()
            .collect(Collectors.joining(","));
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(names.getBytes(StandardCharsets.UTF_8));
      return pods.size() + " pods " + HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int restarts(Pod pod) {
    return pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null
        ? 0
        : pod.getStatus().getContainerStatuses().stream()
            .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount())
            .sum();
  }

  private static DriftStatus checkpoint(
      String stable,
      String pods,
      Measurement m,
      Instant now,
      Double agreement,
      Double count,
      String belowSince,
      Boolean drifting,
      String message) {
    return new DriftStatus(
        stable,
        pods,
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
