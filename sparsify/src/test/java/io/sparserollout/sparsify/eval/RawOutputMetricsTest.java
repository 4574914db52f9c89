package io.sparserollout.sparsify.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.OrtModel.FloatTensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RawOutputMetricsTest {
  /** Two samples of two outputs: "map" of 3 values each, then "score" of 1. */
  private static Map<String, FloatTensor> outputs(float[] map, float[] score) {
    Map<String, FloatTensor> outputs = new LinkedHashMap<>();
    outputs.put("map", new FloatTensor(new long[] {2, 3}, map));
    outputs.put("score", new FloatTensor(new long[] {2, 1}, score));
    return outputs;
  }

  @Test
  void eachOutputIsComparedOnItsOwnAndTheWorstOneGates() {
    RawOutputMetrics metrics = new RawOutputMetrics("candidate");
    // The map keeps its direction at another scale; the score changes sign in one sample.
    metrics.add(
        outputs(new float[] {1, 0, 0, 0, 1, 0}, new float[] {2, -1}),
        outputs(new float[] {2, 0, 0, 0, 3, 0}, new float[] {2, 1}),
        2);

    var fidelity = metrics.fidelity();

    assertThat(metrics.samples()).isEqualTo(2);
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
  void batchesOfAnotherShapeAddUpAndTwoAllZeroAnswersAgree() {
    RawOutputMetrics metrics = new RawOutputMetrics("candidate");
    metrics.add(
        outputs(new float[] {0, 0, 0, 0, 0, 0}, new float[] {1, 1}),
        outputs(new float[] {0, 0, 0, 0, 0, 0.5f}, new float[] {1, 1}),
        2);
    // A later batch of one sample and a wider map (another image size, say).
    Map<String, FloatTensor> wide = new LinkedHashMap<>();
    wide.put("map", new FloatTensor(new long[] {1, 5}, new float[] {1, 2, 3, 4, 5}));
    wide.put("score", new FloatTensor(new long[] {1, 1}, new float[] {3}));
    metrics.add(wide, wide, 1);

    var map = metrics.fidelity().outputs().get(0);

    assertThat(metrics.samples()).isEqualTo(3);
    assertThat(map.cosineMin()).isZero(); // an all-zero answer against one that is not
    assertThat(map.cosineMean()).isCloseTo(2.0 / 3, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(map.maxAbsError()).isEqualTo(0.5);
  }

  @Test
  void anOutputWhoseCosineIsNoNumberIsTheWorst() {
    RawOutputMetrics metrics = new RawOutputMetrics("candidate");
    float inf = Float.POSITIVE_INFINITY;
    metrics.add(
        outputs(new float[] {1, 0, 0, 0, 1, 0}, new float[] {inf, 1}),
        outputs(new float[] {1, 0, 0, 0, 1, 0}, new float[] {inf, 1}),
        2);

    assertThat(metrics.fidelity().cosineMean()).isNaN();
  }

  @Test
  void modelsThatDisagreeOnTheirOutputsAreRefused() {
    RawOutputMetrics metrics = new RawOutputMetrics("sparse-int8");
    Map<String, FloatTensor> dense = outputs(new float[6], new float[2]);
    Map<String, FloatTensor> narrower = new LinkedHashMap<>(dense);
    narrower.put("map", new FloatTensor(new long[] {2, 2}, new float[4]));
    Map<String, FloatTensor> reordered = new LinkedHashMap<>();
    reordered.put("score", dense.get("score"));
    reordered.put("map", dense.get("map"));

    assertThatThrownBy(() -> metrics.add(dense, narrower, 2))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("disagree on output map: dense [2, 3], sparse-int8 [2, 2]");
    assertThatThrownBy(() -> metrics.add(dense, reordered, 2))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("dense [map, score], sparse-int8 [score, map]");
  }
}
