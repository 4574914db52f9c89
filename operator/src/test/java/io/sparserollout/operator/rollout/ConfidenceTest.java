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
    // 400 values, mean 0.9, sample standard deviation 0.1: Σ(1 - x)² = n(1 - mean)² + (n - 1)s².
    double n = 400;
    double squares = n * 0.01 + (n - 1) * 0.01;
    Interval known = Confidence.mean(0.9 * n, squares, n, z);
    assertThat(known.low()).isCloseTo(0.9 - z * 0.1 / 20, within(1e-9));
    assertThat(known.high()).isCloseTo(0.9 + z * 0.1 / 20, within(1e-9));
    // Bhatia–Davis: deviation at most √(0.9 × 0.1).
    Interval bound = Confidence.mean(0.9 * n, Double.NaN, n, z);
    assertThat(bound.low()).isCloseTo(0.9 - z * 0.3 / 20, within(1e-9));
    // Squares that cannot belong to these values (read at another moment): the bound too.
    assertThat(Confidence.mean(0.9 * n, 1.0, n, z)).isEqualTo(bound);
  }

  @Test
  void zeroOrOneValuesAreARateAndIdenticalValuesStillAnInterval() {
    double z = Confidence.z(0.95);
    // Top-1 agreement, 30 of 30: Wilson's [0.8865, 1], not the point 1.
    Interval top1 = Confidence.mean(30, 0, 30, z);
    assertThat(top1).isEqualTo(Confidence.wilson(30, 30, z));
    assertThat(top1.low()).isCloseTo(0.8865, within(1e-4));
    // 100 values of exactly 0.98: no spread measured, the floor (the bound over n) remains.
    Interval flat = Confidence.mean(98, 100 * 0.0004, 100, z);
    assertThat(flat.high() - flat.low())
        .isCloseTo(2 * z * Math.sqrt(0.98 * 0.02 / 100 / 100), within(1e-9));
  }

  @Test
  void hoeffdingBoundsAMeanAtAnySampleSize() {
    // Agreement 0.2 over 10 comparisons: at most 0.2 + √(ln 40 / 20) = 0.6295 at 0.95.
    assertThat(Confidence.hoeffdingHigh(2, 10, 0.95)).isCloseTo(0.6295, within(1e-4));
    assertThat(Confidence.hoeffdingHigh(9.9, 10, 0.95)).isEqualTo(1.0);
  }
}
