package io.sparserollout.sparsify.prune;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SparseGptTest {
  private static final int TOKENS = 512;
  private static final int K = 32;
  private static final int ROWS = 8;

  @Test
  void reconstructsTheLayerOutputBetterThanMagnitudeAndKeeps2to4() {
    Random random = new Random(7);
    float[] x = correlatedInputs(random);
    float[] w = new float[ROWS * K];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian();
    }
    double[] hessian = new double[K * K];
    Torch.addGram(hessian, x, TOKENS, K);
    PrunableLayer asRows = new PrunableLayer("n", "Gemm", "w", "x", new long[] {ROWS, K}, 1);

    float[] sparseGpt = w.clone();
    SparseGpt.prune(sparseGpt, ROWS, K, hessian.clone());
    float[] magnitude = MagnitudePruner.pruned(w.clone(), asRows);

    assertThat(TwoFour.violatingGroups(sparseGpt, asRows)).isZero();
    assertThat(TwoFour.zeroFraction(sparseGpt)).isEqualTo(0.5);
    double sparseGptError = outputError(x, w, sparseGpt);
    double magnitudeError = outputError(x, w, magnitude);
    assertThat(sparseGptError).isLessThan(0.8 * magnitudeError);
  }

  @Test
  void anInputThatIsAlwaysZeroLosesItsWeights() {
    float[] x = correlatedInputs(new Random(3));
    for (int t = 0; t < TOKENS; t++) {
      x[t * K + 5] = 0;
    }
    double[] hessian = new double[K * K];
    Torch.addGram(hessian, x, TOKENS, K);
    float[] w = new float[ROWS * K];
    java.util.Arrays.fill(w, 1f);

    SparseGpt.prune(w, ROWS, K, hessian);

    for (int r = 0; r < ROWS; r++) {
      assertThat(w[r * K + 5]).isZero();
    }
  }

  /** Inputs whose features are mixtures of a few sources, as real activations are. */
  private static float[] correlatedInputs(Random random) {
    float[][] mix = new float[4][K];
    for (float[] row : mix) {
      for (int j = 0; j < K; j++) {
        row[j] = (float) random.nextGaussian();
      }
    }
    float[] x = new float[TOKENS * K];
    for (int t = 0; t < TOKENS; t++) {
      double[] source = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian(), 0};
      source[3] = random.nextGaussian() * 0.1;
      for (int j = 0; j < K; j++) {
        double v = 0;
        for (int s = 0; s < 4; s++) {
          v += source[s] * mix[s][j];
        }
        x[t * K + j] = (float) (v + 0.05 * random.nextGaussian());
      }
    }
    return x;
  }

  private static double outputError(float[] x, float[] w, float[] pruned) {
    double error = 0;
    for (int t = 0; t < TOKENS; t++) {
      for (int r = 0; r < ROWS; r++) {
        double a = 0;
        double b = 0;
        for (int j = 0; j < K; j++) {
          a += x[t * K + j] * w[r * K + j];
          b += x[t * K + j] * pruned[r * K + j];
        }
        error += (a - b) * (a - b);
      }
    }
    return error;
  }
}
