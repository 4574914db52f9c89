package io.sparserollout.sparsify.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.stage.EvaluationResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ranking metrics against values worked out by hand. */
class RankingMetricsTest {
  private static float[][] column(double... scores) {
    float[][] rows = new float[scores.length][];
    for (int i = 0; i < scores.length; i++) {
      rows[i] = new float[] {(float) scores[i]};
    }
    return rows;
  }

  @Test
  void ndcgCountsTheFirstKDocumentsWithGainTwoToTheGradeLessOne() {
    // One query of 4 documents ranked 3, 0, 2, 1 by score; grades 2, 0, 1, 0.
    float[][] scores = column(0.9, 0.1, 0.5, 0.2);
    int[] grades = {2, 0, 1, 0};
    List<List<Integer>> one = List.of(List.of(0, 1, 2, 3));

    EvaluationResult.Scores at2 = RankingMetrics.scores(scores, one, grades, 2);

    // First two: grades 2 then 1, the ideal order: NDCG@2 = 1.
    assertThat(at2.ndcg()).isCloseTo(1.0, within(1e-12));
    // Swapping the first two documents' scores puts grade 1 first.
    EvaluationResult.Scores swapped =
        RankingMetrics.scores(column(0.5, 0.1, 0.9, 0.2), one, grades, 2);
    double dcg = (Math.pow(2, 1) - 1) / 1 + (Math.pow(2, 2) - 1) / (Math.log(3) / Math.log(2));
    double ideal = 3 / 1.0 + 1 / (Math.log(3) / Math.log(2));
    assertThat(swapped.ndcg()).isCloseTo(dcg / ideal, within(1e-12));
    assertThat(swapped.accuracy()).isZero(); // the first document is not the best graded
    assertThat(at2.accuracy()).isEqualTo(1.0);
  }

  @Test
  void pnrIsPairsInTheGradesOrderOverPairsAgainstItAndTiesCountAsNeither() {
    // Grades 2, 1, 0, 0: five ordered pairs (0>1, 0>2, 0>3, 1>2, 1>3).
    int[] grades = {2, 1, 0, 0};
    List<List<Integer>> one = List.of(List.of(0, 1, 2, 3));
    // Scores: 0 first; 1 below 2; 1 tied with 3.
    float[][] scores = column(0.9, 0.3, 0.5, 0.3);

    // Concordant: 0>1, 0>2, 0>3; discordant: 1<2; tied: 1=3.
    assertThat(RankingMetrics.scores(scores, one, grades, 5).pnr()).isEqualTo(3.0);
  }

  @Test
  void queriesWithOneDocumentOrOneGradeLeaveAccuracyAlone() {
    int[] grades = {1, 1, 2, 0, 5};
    // Query 0: two documents of one grade (no best to find); query 1: ordered right; query 2: one
    // document, no order at all.
    List<List<Integer>> groups = List.of(List.of(0, 1), List.of(2, 3), List.of(4));

    EvaluationResult.Scores s =
        RankingMetrics.scores(column(0.1, 0.2, 0.8, 0.3, 0.5), groups, grades, 5);

    assertThat(s.accuracy()).isEqualTo(1.0);
  }

  @Test
  void theCentredCosineSeesOrderNotShiftAndAFlatQueryOnlyAgreesWithAFlatOne() {
    List<List<Integer>> one = List.of(List.of(0, 1, 2));
    float[][] dense = column(0.1, 0.2, 0.3);

    var shifted = RankingMetrics.fidelity(dense, column(5.1, 5.2, 5.3), one);
    var reversed = RankingMetrics.fidelity(dense, column(0.3, 0.2, 0.1), one);
    // Equal scores whose mean is not exactly them in floating point.
    var flat = RankingMetrics.fidelity(column(0.1, 0.1, 0.1), column(0.7, 0.7, 0.7), one);
    var oneFlat = RankingMetrics.fidelity(dense, column(0.1, 0.1, 0.1), one);

    assertThat(shifted.cosineMean()).isCloseTo(1.0, within(1e-5));
    assertThat(shifted.top1Agreement()).isEqualTo(1.0);
    assertThat(reversed.cosineMean()).isCloseTo(-1.0, within(1e-5));
    assertThat(reversed.top1Agreement()).isZero();
    assertThat(flat.cosineMean()).isEqualTo(1.0);
    assertThat(oneFlat.cosineMean()).isZero();
  }
}
