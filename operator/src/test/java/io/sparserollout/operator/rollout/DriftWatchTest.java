package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.events.EventRecorder.Reason;
import java.time.Instant;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The promoted model's agreement judged reading by reading, over the drift window. */
class DriftWatchTest {
  private static final AnalysisSpec SPEC =
      Fixtures.minilm(
              s ->
                  s.with("rollout")
                      .with("analysis")
                      .put("driftWindow", "10m")
                      .put("minSamples", 30))
          .getSpec()
          .rollout()
          .analysis();
  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

  private double count;
  private double sum;
  private double squares;

  /**
   * The pods' cumulative counters after {@code n} more comparisons, half agreeing at {@code
   * agreement + spread} and half at {@code agreement - spread}.
   */
  private Measurement more(double n, double agreement, double spread) {
    count += n;
    sum += n * agreement;
    squares += n * ((1 - agreement) * (1 - agreement) + spread * spread);
    return new Measurement(count, 0, new TreeMap<>(), sum, count, squares);
  }

  private Measurement more(double n, double agreement) {
    return more(n, agreement, 0.02);
  }

  private DriftStatus state;
  private Reason event;
  private String pods = "2 pods aaaa";

  private void read(Measurement m, int minutes) {
    DriftWatch.Outcome outcome =
        DriftWatch.next(state, "r1", pods, m, SPEC, T0.plusSeconds(60L * minutes));
    state = outcome.status();
    event = outcome.notice() == null ? null : outcome.notice().reason();
  }

  @Test
  void agreementBelowTheMinimumForTheWholeWindowIsDriftAndAboveAgainIsRecovery() {
    read(more(1000, 0.99), 0); // the first reading: a checkpoint, nothing judged
    assertThat(state.drifting()).isFalse();
    assertThat(state.agreement()).isNull();

    read(more(1000, 0.80), 5); // 1000 more at 0.80 < 0.95: the window starts here
    assertThat(state.agreement()).isEqualTo(0.8);
    assertThat(state.belowSince()).isEqualTo(T0.plusSeconds(300).toString());
    assertThat(state.drifting()).isFalse();
    assertThat(event).isNull();

    read(more(1000, 0.80), 10);
    assertThat(state.drifting()).isFalse();

    read(more(1000, 0.80), 15); // still below, 10 minutes after the first reading below
    assertThat(state.drifting()).isTrue();
    assertThat(event).isEqualTo(Reason.QUALITY_DRIFT);
    assertThat(state.message())
        .contains("shadow agreement of r1 with the dense model 0.8000")
        .contains("below minAgreement 0.9500")
        .contains("below since 2026-12-06T10:05:00Z, the drift window is 10m");

    read(more(1000, 0.80), 16); // still below: no second event
    assertThat(state.drifting()).isTrue();
    assertThat(event).isNull();

    read(more(1000, 0.995, 0.001), 17);
    assertThat(state.drifting()).isFalse();
    assertThat(state.belowSince()).isNull();
    assertThat(event).isEqualTo(Reason.QUALITY_RECOVERED);
  }

  @Test
  void oneReadingOverALongQuietSpellIsNotASustainedDrop() {
    read(more(1000, 0.99), 0);
    read(more(1000, 0.80), 60); // an hour since the checkpoint, but one reading
    assertThat(state.drifting()).isFalse();
    assertThat(state.belowSince()).isEqualTo(T0.plusSeconds(3600).toString());
  }

  @Test
  void aShortDipIsNotDrift() {
    read(more(1000, 0.99), 0);
    read(more(1000, 0.80), 5);
    read(more(1000, 0.995, 0.001), 8); // above again before the window ends
    assertThat(state.belowSince()).isNull();
    read(more(1000, 0.80), 12);
    read(more(1000, 0.80), 20);
    assertThat(state.drifting()).isFalse();
    assertThat(state.belowSince()).isEqualTo(T0.plusSeconds(12 * 60).toString());
  }

  @Test
  void tooFewComparisonsWaitForMoreFromTheSameCheckpoint() {
    read(more(1000, 0.99), 0);
    DriftStatus checkpoint = state;
    read(more(10, 0.80), 1); // 10 < minSamples 30
    assertThat(state).isSameAs(checkpoint);
    read(more(90, 0.80), 2); // 100 since the checkpoint, judged together
    assertThat(state.intervalComparisons()).isEqualTo(100);
    assertThat(state.agreement()).isEqualTo(0.8);
  }

  @Test
  void anotherSetOfPodsIsReadFromItsOwnCountersAndTheVerdictSoFarStands() {
    read(more(1000, 0.99), 0);
    read(more(1000, 0.80), 5);
    String below = state.belowSince();
    // A pod scaled away or not ready: the sum is of other pods now, not comparable.
    pods = "1 pods bbbb";
    read(more(1000, 0.99), 6);
    assertThat(state.pods()).isEqualTo("1 pods bbbb");
    assertThat(state.comparisons()).isEqualTo(count);
    assertThat(state.belowSince()).isEqualTo(below);
    assertThat(event).isNull();
    // Restarted pods report counters that went back: the same.
    count = 0;
    sum = 0;
    squares = 0;
    read(more(100, 0.80), 7);
    assertThat(state.comparisons()).isEqualTo(100);
    read(more(1000, 0.80), 15);
    assertThat(state.drifting()).isTrue();
  }

  @Test
  void readingsComeAnIntervalApart() {
    read(more(1000, 0.99), 0);
    java.time.Duration interval = java.time.Duration.ofSeconds(30);
    assertThat(DriftWatch.due(state, "r1", interval, T0.plusSeconds(29))).isFalse();
    assertThat(DriftWatch.due(state, "r1", interval, T0.plusSeconds(30))).isTrue();
    assertThat(DriftWatch.due(state, "r2", interval, T0.plusSeconds(1))).isTrue();
    assertThat(DriftWatch.due(null, "r1", interval, T0)).isTrue();
  }

  @Test
  void aNewStableRevisionStartsAFreshWatch() {
    read(more(1000, 0.99), 0);
    read(more(1000, 0.80), 5);
    read(more(1000, 0.80), 15);
    assertThat(state.drifting()).isTrue();

    DriftWatch.Outcome next =
        DriftWatch.next(state, "r2", pods, more(50, 0.98), SPEC, T0.plusSeconds(1200));
    assertThat(next.status().revision()).isEqualTo("r2");
    assertThat(next.status().drifting()).isFalse();
    assertThat(next.notice()).isNull();
  }

  @Test
  void anIntervalNeitherShownBelowNorAboveChangesNothing() {
    read(more(1000, 0.99), 0);
    read(more(1000, 0.80), 5);
    String below = state.belowSince();
    // 40 comparisons at 0.94 (0.89 and 0.99): too few to show it on either side of 0.95.
    read(more(40, 0.94, 0.05), 7);
    assertThat(state.belowSince()).isEqualTo(below);
    assertThat(state.message()).contains("not yet shown against minAgreement");
  }
}
