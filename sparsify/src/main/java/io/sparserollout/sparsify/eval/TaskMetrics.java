package io.sparserollout.sparsify.eval;

import io.sparserollout.stage.EvaluationResult.Scores;
import java.util.Arrays;
import java.util.List;

/**
 * Task metrics of an embedding model against labels, each sentence in turn the query and the others
 * its candidates; a candidate is relevant when it carries the query's label.
 *
 * <ul>
 *   <li>accuracy: the nearest other sentence has the query's label (1-NN, leave-one-out);
 *   <li>ndcg: NDCG@k of the similarity ranking with binary relevance;
 *   <li>pnr: positive-negative ratio, correctly ordered (relevant above irrelevant) pairs over
 *       wrongly ordered ones (at least 1), the ranking metric of the article's search service.
 * </ul>
 */
public final class TaskMetrics {
  private TaskMetrics() {}

  public static Scores compute(float[][] embeddings, List<String> labels, int k) {
    int n = embeddings.length;
    float[][] unit = Vectors.unit(embeddings);
    double correct = 0;
    double ndcgSum = 0;
    int ndcgQueries = 0;
    long concordant = 0;
    long discordant = 0;
    for (int q = 0; q < n; q++) {
      double[] sims = new double[n];
      Integer[] order = new Integer[n - 1];
      int at = 0;
      for (int j = 0; j < n; j++) {
        if (j != q) {
          sims[j] = Vectors.dot(unit[q], unit[j]);
          order[at++] = j;
        }
      }
      Arrays.sort(order, (a, b) -> Double.compare(sims[b], sims[a]));
      String label = labels.get(q);
      if (labels.get(order[0]).equals(label)) {
        correct++;
      }
      int relevant = 0;
      double dcg = 0;
      for (int r = 0; r < order.length; r++) {
        if (labels.get(order[r]).equals(label)) {
          relevant++;
          if (r < k) {
            dcg += 1 / log2(r + 2);
          }
        }
      }
      if (relevant > 0) {
        double ideal = 0;
        for (int r = 0; r < Math.min(k, relevant); r++) {
          ideal += 1 / log2(r + 2);
        }
        ndcgSum += dcg / ideal;
        ndcgQueries++;
      }
      // Walking the ranking from the bottom: each relevant item is above every irrelevant item
      // seen so far below it (concordant) and below every irrelevant item above it (discordant).
      int irrelevantBelow = 0;
      int irrelevantTotal = order.length - relevant;
      for (int r = order.length - 1; r >= 0; r--) {
        if (labels.get(order[r]).equals(label)) {
          concordant += irrelevantBelow;
          discordant += irrelevantTotal - irrelevantBelow;
        } else {
          irrelevantBelow++;
        }
      }
    }
    return new Scores(
        correct / n,
        ndcgQueries == 0 ? 0 : ndcgSum / ndcgQueries,
        (double) concordant / Math.max(discordant, 1)); // finite in JSON even when perfect
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
