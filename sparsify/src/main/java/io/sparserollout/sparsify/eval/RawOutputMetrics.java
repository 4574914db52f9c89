package io.sparserollout.sparsify.eval;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.EvaluationResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A model of raw outputs (task tensor) against the dense model, output by output: the cosine of
 * each sample's values and the largest absolute difference. Its overall cosines are its worst
 * output's, so that a gate on cosine-fidelity holds for every output.
 */
final class RawOutputMetrics {
  private RawOutputMetrics() {}

  /**
   * Rows hold each sample's outputs one after the other, {@code widths} values of each output in
   * order.
   */
  static EvaluationResult.Fidelity fidelity(
      float[][] dense, float[][] candidate, Map<String, Integer> widths) {
    int total = widths.values().stream().mapToInt(Integer::intValue).sum();
    for (int i = 0; i < dense.length; i++) {
      if (dense[i].length != total || candidate[i].length != total) {
        throw new SparsifyException(
            "sample "
                + i
                + " has "
                + Math.max(dense[i].length, candidate[i].length)
                + " output values where the first had "
                + total
                + ": task tensor compares samples of one shape");
      }
    }
    List<EvaluationResult.OutputFidelity> outputs = new ArrayList<>();
    int offset = 0;
    for (Map.Entry<String, Integer> output : widths.entrySet()) {
      outputs.add(output(output.getKey(), dense, candidate, offset, output.getValue()));
      offset += output.getValue();
    }
    return new EvaluationResult.Fidelity(
        worst(outputs, EvaluationResult.OutputFidelity::cosineMean),
        worst(outputs, EvaluationResult.OutputFidelity::cosineMin),
        worst(outputs, EvaluationResult.OutputFidelity::cosineP5),
        null,
        null,
        outputs);
  }

  private static EvaluationResult.OutputFidelity output(
      String name, float[][] dense, float[][] candidate, int offset, int width) {
    int n = dense.length;
    double[] cosines = new double[n];
    double maxAbs = 0;
    for (int i = 0; i < n; i++) {
      double dot = 0;
      double d2 = 0;
      double c2 = 0;
      for (int j = offset; j < offset + width; j++) {
        double d = dense[i][j];
        double c = candidate[i][j];
        dot += d * c;
        d2 += d * d;
        c2 += c * c;
        maxAbs = Math.max(maxAbs, Math.abs(d - c));
      }
      // Two all-zero answers are the same answer; one all-zero answer shares no direction.
      cosines[i] = d2 == 0 && c2 == 0 ? 1 : d2 == 0 || c2 == 0 ? 0 : dot / Math.sqrt(d2 * c2);
    }
    double[] sorted = cosines.clone();
    Arrays.sort(sorted);
    return new EvaluationResult.OutputFidelity(
        name,
        Arrays.stream(cosines).average().orElse(0),
        sorted[0],
        sorted[(int) Math.floor(0.05 * (n - 1))],
        maxAbs);
  }

  private static double worst(
      List<EvaluationResult.OutputFidelity> outputs,
      java.util.function.Function<EvaluationResult.OutputFidelity, Double> value) {
    return outputs.stream().mapToDouble(value::apply).min().orElse(0);
  }
}
