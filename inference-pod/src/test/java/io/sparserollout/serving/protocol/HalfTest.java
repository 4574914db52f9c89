package io.sparserollout.serving.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {
  @Test
  void everyHalfSurvivesTheRoundTripThroughFloat() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      short half = (short) bits;
      float value = Half.toFloat(half);
      if (Float.isNaN(value)) {
        assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(value)))).isTrue();
      } else {
        assertThat(Half.fromFloat(value)).as("half %04x", bits).isEqualTo(half);
      }
    }
  }

  @Test
  void floatsRoundToTheNearestHalf() {
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < 200_000; i++) {
      float value = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-26, 17)));
      if (Math.abs(value) > 65504) {
        continue; // beyond FP16: infinity, checked below
      }
      short half = Half.fromFloat(value);
      double error = Math.abs(Half.toFloat(half) - (double) value);
      for (short neighbour : new short[] {(short) (half + 1), (short) (half - 1)}) {
        float other = Half.toFloat(neighbour);
        if (Float.isFinite(other) && Math.signum(other) == Math.signum(Half.toFloat(half))) {
          assertThat(error)
              .as("%s -> %s", value, Half.toFloat(half))
              .isLessThanOrEqualTo(Math.abs(other - (double) value));
        }
      }
    }
  }

  @Test
  void knownValues() {
    assertThat(Half.fromFloat(1f)).isEqualTo((short) 0x3C00);
    assertThat(Half.fromFloat(-2f)).isEqualTo((short) 0xC000);
    assertThat(Half.fromFloat(65504f)).isEqualTo((short) 0x7BFF);
    assertThat(Half.fromFloat(1e6f)).isEqualTo((short) 0x7C00);
    assertThat(Half.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(Half.fromFloat(0x1p-25f)).isEqualTo((short) 0); // a tie rounds to even: zero
    assertThat(Half.fromFloat(0x1.8p-25f)).isEqualTo((short) 1);
  }
}
