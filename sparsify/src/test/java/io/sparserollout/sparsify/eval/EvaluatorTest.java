package io.sparserollout.sparsify.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class EvaluatorTest {
  @Test
  void identicalOutputsAgreeCompletely() {
    float[][] e = random(20, 8, 1);

    var f = Evaluator.fidelity(e, e);

    assertThat(f.cosineMean()).isCloseTo(1.0, within(1e-9));
    assertThat(f.cosineMin()).isCloseTo(1.0, within(1e-9));
    assertThat(f.top1Agreement()).isEqualTo(1.0);
    assertThat(f.top5Overlap()).isEqualTo(1.0);
  }

  @Test
  void unrelatedOutputsAgreeLittle() {
    var f = Evaluator.fidelity(random(50, 16, 1), random(50, 16, 2));

    assertThat(f.cosineMean()).isLessThan(0.3);
    assertThat(f.top5Overlap()).isLessThan(0.4);
    assertThat(f.cosineP5()).isGreaterThanOrEqualTo(f.cosineMin());
  }

  @Test
  void cosineIgnoresScale() {
    assertThat(Vectors.cosine(new float[] {1, 2}, new float[] {2, 4})).isCloseTo(1, within(1e-9));
    assertThat(Vectors.cosine(new float[] {1, 0}, new float[] {0, 1})).isZero();
  }

  private static float[][] random(int n, int d, long seed) {
    Random random = new Random(seed);
    float[][] out = new float[n][d];
    for (float[] row : out) {
      for (int j = 0; j < d; j++) {
        row[j] = (float) random.nextGaussian();
      }
    }
    return out;
  }
}
