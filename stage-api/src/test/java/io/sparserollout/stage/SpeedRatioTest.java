package io.sparserollout.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpeedRatioTest {
  @Test
  void pairedRepetitionsGiveStudentsIntervalOfTheGeometricMeanRatio() {
    // Ratios 1.1, 1.2, 1.0, 1.1, 1.1: their logarithms' mean and standard deviation by hand.
    var ratio =
        SpeedRatio.of(
            110.0,
            List.of(110.0, 120.0, 100.0, 110.0, 110.0),
            100.0,
            List.of(100.0, 100.0, 100.0, 100.0, 100.0));
    double[] logs = {Math.log(1.1), Math.log(1.2), Math.log(1.0), Math.log(1.1), Math.log(1.1)};
    double mean = java.util.Arrays.stream(logs).average().orElseThrow();
    double sd =
        Math.sqrt(java.util.Arrays.stream(logs).map(l -> (l - mean) * (l - mean)).sum() / 4);
    double half = 2.776 * sd / Math.sqrt(5);
    assertThat(ratio.estimate()).isCloseTo(Math.exp(mean), within(1e-9));
    assertThat(ratio.low()).isCloseTo(Math.exp(mean - half), within(1e-9));
    assertThat(ratio.high()).isCloseTo(Math.exp(mean + half), within(1e-9));
    assertThat(ratio.describe()).isEqualTo("1.10x (95% 1.01-1.19x)");
  }

  @Test
  void aSlowMomentSharedByBothCancels() {
    var ratio =
        SpeedRatio.of(
            150.0, List.of(150.0, 150.0, 75.0, 150.0), 100.0, List.of(100.0, 100.0, 50.0, 100.0));
    assertThat(ratio.low()).isCloseTo(1.5, within(1e-12));
    assertThat(ratio.high()).isCloseTo(1.5, within(1e-12));
    assertThat(ratio.describe()).isEqualTo("1.50x");
  }

  @Test
  void withoutRepetitionsTheIntervalIsTheMediansRatio() {
    assertThat(SpeedRatio.of(150.0, null, 100.0, List.of(100.0, 101.0)))
        .isEqualTo(new SpeedRatio(1.5, 1.5, 1.5));
    assertThat(SpeedRatio.of(null, null, 100.0, null)).isNull();
    assertThat(SpeedRatio.of(150.0, null, 0.0, null)).isNull();
  }

  @Test
  void repetitionsThatCannotBePairedShowNoLead() {
    var unequal = SpeedRatio.of(150.0, List.of(150.0, 149.0, 151.0), 100.0, List.of(100.0, 101.0));
    assertThat(unequal.low()).isZero();
    assertThat(unequal.high()).isInfinite();
    assertThat(unequal.describe()).isEqualTo("1.50x (repetitions unusable: no lead shown)");
    assertThat(SpeedRatio.of(150.0, List.of(150.0, 0.0), 100.0, List.of(100.0, 101.0)).low())
        .isZero();
    // A bad pair is left out; the others still count.
    var dropped =
        SpeedRatio.of(
            150.0,
            java.util.Arrays.asList(150.0, null, 150.0, 150.0),
            100.0,
            List.of(100.0, 100.0, 100.0, 100.0));
    assertThat(dropped.low()).isCloseTo(1.5, within(1e-12));
  }

  @Test
  void studentsQuantilesFollowTheTableThenApproachTheNormal() {
    assertThat(SpeedRatio.t975(4)).isEqualTo(2.776);
    assertThat(SpeedRatio.t975(30)).isEqualTo(2.042);
    assertThat(SpeedRatio.t975(60)).isCloseTo(2.000, within(0.002));
    assertThat(SpeedRatio.t975(1000)).isCloseTo(1.962, within(0.002));
  }
}
