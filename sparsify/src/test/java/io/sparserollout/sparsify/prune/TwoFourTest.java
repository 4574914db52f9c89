package io.sparserollout.sparsify.prune;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.onnx.PrunableLayer;
import org.junit.jupiter.api.Test;

class TwoFourTest {
  /** MatMul weight [K=4, N=2]: groups run down each column. */
  private static final PrunableLayer MATMUL =
      new PrunableLayer("n", "MatMul", "w", "x", new long[] {4, 2}, 0);

  @Test
  void keepsTheTwoLargestOfEachGroupAlongK() {
    float[] w = {1, -9, -5, 1, 2, 3, 4, -2};
    // column 0 = [1, -5, 2, 4] keeps -5 and 4; column 1 = [-9, 1, 3, -2] keeps -9 and 3

    MagnitudePruner.pruned(w, MATMUL);

    assertThat(w).containsExactly(0, -9, -5, 0, 0, 3, 4, 0);
    assertThat(TwoFour.violatingGroups(w, MATMUL)).isZero();
    assertThat(TwoFour.zeroFraction(w)).isEqualTo(0.5);
  }

  @Test
  void aGroupWithThreeNonZerosViolates() {
    float[] w = {1, 0, 2, 0, 3, 0, 0, 0};

    assertThat(TwoFour.violatingGroups(w, MATMUL)).isEqualTo(1);
  }

  @Test
  void prunesAlongTheSecondAxisOfATransposedGemm() {
    PrunableLayer gemm = new PrunableLayer("n", "Gemm", "w", "x", new long[] {1, 4}, 1);
    float[] w = {4, 3, 2, 1};

    MagnitudePruner.pruned(w, gemm);

    assertThat(w).containsExactly(4, 3, 0, 0);
  }
}
