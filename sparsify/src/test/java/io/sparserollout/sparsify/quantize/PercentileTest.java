package io.sparserollout.sparsify.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PercentileTest {
  @Test
  void aPercentileIsTheExactOneRoundedUpByAtMostAFifthOfAPercent() {
    Random random = new Random(3);
    float[] values = new float[200_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * (i % 10 == 0 ? 30 : 1));
    }
    Percentile percentile = new Percentile();
    percentile.addAbsolute(values, 0, values.length / 2);
    percentile.addAbsolute(values, values.length / 2, values.length / 2);

    float[] sorted = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      sorted[i] = Math.abs(values[i]);
    }
    Arrays.sort(sorted);
    for (double p : new double[] {50, 99, 99.99, 100}) {
      float exact = sorted[(int) Math.ceil(p / 100 * sorted.length) - 1];
      assertThat(percentile.at(p)).isBetween(exact, exact * 1.002f);
    }
  }

  @Test
  void memoryDoesNotGrowWithTheValuesCounted() {
    Percentile percentile = new Percentile();
    float[] chunk = new float[1 << 20];
    Arrays.fill(chunk, -2.5f);
    for (int i = 0; i < 64; i++) { // 67 million values: 268 MB had they been kept
      percentile.addAbsolute(chunk, 0, chunk.length);
    }
    assertThat(percentile.at(99.99)).isBetween(2.5f, 2.5f * 1.002f);
    assertThat(new Percentile().at(99.99)).isZero();
  }
}
