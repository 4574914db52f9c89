package io.sparserollout.sparsify.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class TaskMetricsTest {
  private static final List<String> LABELS = List.of("a", "a", "b", "b");

  @Test
  void embeddingsThatSeparateTheLabelsScorePerfectly() {
    float[][] e = {{1, 0}, {0.9f, 0.1f}, {0, 1}, {0.1f, 0.9f}};

    var scores = TaskMetrics.compute(e, LABELS, 5);

    assertThat(scores.accuracy()).isEqualTo(1.0);
    assertThat(scores.ndcg()).isCloseTo(1.0, within(1e-12));
    // each query: 1 relevant above 2 irrelevant = 2 concordant pairs; 4 queries, none discordant
    assertThat(scores.pnr()).isEqualTo(8.0);
  }

  @Test
  void embeddingsThatInvertTheLabelsScoreBadly() {
    // Each sentence is closest to one of the other label.
    float[][] e = {{1, 0}, {0, 1}, {0.9f, 0.1f}, {0.1f, 0.9f}};

    var scores = TaskMetrics.compute(e, LABELS, 1);

    assertThat(scores.accuracy()).isZero();
    assertThat(scores.ndcg()).isZero();
    assertThat(scores.pnr()).isLessThan(1.0);
  }
}
