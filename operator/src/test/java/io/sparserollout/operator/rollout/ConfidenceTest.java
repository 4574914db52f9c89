package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.operator.rollout.Confidence.Interval;
import org.junit.jupiter.api.Test;

/** Reference values from the textbook formulas (Wilson 1927; Agresti and Coull 1998). */
class ConfidenceTest {
  @Test
  void zIsTheTwoSidedNormalQuantile() {
    assertThat(Confidence.z(0.95)).isCloseTo(1.959964, within(1e-6));
    assertThat(Confidence.z(0.99)).isCloseTo(2.575829, within(1e-6));
    assertThat(Confidence.z(0.9999)).isCloseTo(3.890592, within(1e-6));
    assertThat(Confidence.z(0.5)).isCloseTo(0.674490, within(1e-6));
  }

  @Test
  void wilsonMatchesItsReferenceValues() {
    double z = Confidence.z(0.95);
    Interval none = Confidence.wilson(0, 100, z);
    assertThat(none.low()).isZero();
    assertThat(none.high()).isCloseTo(0.0370, within(1e-4));
    Interval ten = Confidence.wilson(10, 100, z);
    assertThat(ten.low()).isCloseTo(0.0552, within(1e-4));
    assertThat(ten.high()).isCloseTo(0.1744, within(1e-4));
    Interval all = Confidence.wilson(20, 20, z);
    assertThat(all.high()).isEqualTo(1.0);
    assertThat(all.low()).isCloseTo(0.8389, within(1e-4));
    assertThat(Confidence.wilson(0, 0, z).known()).isFalse();
  }

  @Test
  void theMeansIntervalNarrowsWithTheSquareRootOfTheSamplesAndIsWidestWithoutSquares() {
    double z = Confidence.z(0.95);
    // 400 values, mean 0.9, sample standard deviation 0.1 (unbiased).
    double n = 400;
    double squares = 0.01 * (n - 1) + n * 0.81;
    Interval known = Confidence.mean(0.9 * n, squares, n, z, -1, 1);
    assertThat(known.low()).isCloseTo(0.9 - z * 0.1 / 20, within(1e-9));
    assertThat(known.high()).isCloseTo(0.9 + z * 0.1 / 20, within(1e-9));
    Interval bound = Confidence.mean(0.9 * n, Double.NaN, n, z, -1, 1);
    // Bhatia–Davis: deviation at most √((1 − 0.9)(0.9 + 1)).
    assertThat(bound.low()).isCloseTo(0.9 - z * Math.sqrt(0.1 * 1.9) / 20, within(1e-9));
    // All equal: no spread, the interval is the mean.
    Interval flat = Confidence.mean(100, 100, 100, z, -1, 1);
    assertThat(flat.low()).isEqualTo(1.0);
    assertThat(flat.high()).isEqualTo(1.0);
  }
}
