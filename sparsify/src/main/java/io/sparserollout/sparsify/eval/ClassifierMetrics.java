package io.sparserollout.sparsify.eval;

import io.sparserollout.stage.EvaluationResult;

/**
 * What a classifier's logits are compared on: the predicted class against the dense model's (top-1
 * agreement), the overlap of the top classes, and accuracy against labels.
 */
final class ClassifierMetrics {
  private static final int TOP_K = 5;

  private ClassifierMetrics() {}

  /** Cosine of the logits per sentence (as for embeddings), plus class agreement and overlap. */
  static EvaluationResult.Fidelity fidelity(float[][] dense, float[][] candidate) {
    EvaluationResult.Fidelity cosines = Evaluator.cosines(dense, candidate);
    int n = dense.length;
    int k = Math.max(1, Math.min(TOP_K, dense[0].length - 1));
    double top1 = 0;
    double overlap = 0;
    for (int i = 0; i < n; i++) {
      int[] d = top(dense[i], k);
      int[] c = top(candidate[i], k);
      top1 += d[0] == c[0] ? 1 : 0;
      int shared = 0;
      for (int x : c) {
        for (int y : d) {
          shared += x == y ? 1 : 0;
        }
      }
      overlap += (double) shared / k;
    }
    return new EvaluationResult.Fidelity(
        cosines.cosineMean(), cosines.cosineMin(), cosines.cosineP5(), top1 / n, overlap / n);
  }

  /** Accuracy of the predicted classes against the labels' classes; no ranking metrics. */
  static EvaluationResult.Scores scores(float[][] logits, int[] classes) {
    double correct = 0;
    for (int i = 0; i < logits.length; i++) {
      correct += top(logits[i], 1)[0] == classes[i] ? 1 : 0;
    }
    return new EvaluationResult.Scores(correct / logits.length, null, null);
  }

  /** Indices of the k largest values, largest first; ties go to the lower index. */
  static int[] top(float[] values, int k) {
    int[] top = new int[k];
    boolean[] taken = new boolean[values.length];
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int i = 0; i < values.length; i++) {
        if (!taken[i] && (best < 0 || values[i] > values[best])) {
          best = i;
        }
      }
      taken[best] = true;
      top[j] = best;
    }
    return top;
  }
}
