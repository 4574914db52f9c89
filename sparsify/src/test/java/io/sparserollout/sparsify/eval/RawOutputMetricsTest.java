package io.sparserollout.sparsify.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RawOutputMetricsTest {
  /** Two outputs per sample: "map" of 3 values, then "score" of 1. */
  private static final Map<String, Integer> WIDTHS = widths();

  private static Map<String, Integer> widths() {
    Map<String, Integer> widths = new LinkedHashMap<>();
    widths.put("map", 3);
    widths.put("score", 1);
    return widths;
  }

  @Test
  void eachOutputIsComparedOnItsOwnAndTheWorstOneGates() {
    float[][] dense = {{1, 0, 0, 2}, {0, 1, 0, -1}};
    // The map keeps its direction at another scale; the score changes sign in one sample.
    float[][] candidate = {{2, 0, 0, 2}, {0, 3, 0, 1}};

    var fidelity = RawOutputMetrics.fidelity(dense, candidate, WIDTHS);

    assertThat(fidelity.outputs()).hasSize(2);
    var map = fidelity.outputs().get(0);
    var score = fidelity.outputs().get(1);
    assertThat(map.name()).isEqualTo("map");
    assertThat(map.cosineMean()).isEqualTo(1.0);
    assertThat(map.maxAbsError()).isEqualTo(2.0);
    assertThat(score.name()).isEqualTo("score");
    assertThat(score.cosineMean()).isZero(); // 1 and -1
    assertThat(score.cosineMin()).isEqualTo(-1.0);
    assertThat(score.maxAbsError()).isEqualTo(2.0);
    assertThat(fidelity.cosineMean()).isZero();
    assertThat(fidelity.cosineMin()).isEqualTo(-1.0);
    assertThat(fidelity.top1Agreement()).isNull();
    assertThat(fidelity.top5Overlap()).isNull();
  }

  @Test
  void twoAllZeroAnswersAgreeAndOneAllZeroAnswerDoesNot() {
    float[][] dense = {{0, 0, 0, 1}, {0, 0, 0, 1}};
    float[][] candidate = {{0, 0, 0, 1}, {0, 0, 0.5f, 1}};

    var map = RawOutputMetrics.fidelity(dense, candidate, WIDTHS).outputs().get(0);

    assertThat(map.cosineMin()).isZero();
    assertThat(map.cosineMean()).isEqualTo(0.5);
    assertThat(map.maxAbsError()).isEqualTo(0.5);
  }

  @Test
  void samplesOfAnotherShapeAreRefused() {
    float[][] dense = {{1, 0, 0, 2}, {0, 1, 0, -1, 5}};
    assertThatThrownBy(() -> RawOutputMetrics.fidelity(dense, dense, WIDTHS))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("sample 1 has 5 output values where the first had 4");
  }
}
