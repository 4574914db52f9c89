package io.sparserollout.sparsify.eval;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.OrtModel.FloatTensor;
import io.sparserollout.stage.EvaluationResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model of raw outputs (task tensor) against the dense model, output by output and batch by
 * batch: of each output only the cosine of each sample's values and the largest absolute difference
 * are kept, so memory does not grow with the outputs' size. The overall cosine is the worst
 * output's, so that a gate on cosine-fidelity holds for every output.
 */
final class RawOutputMetrics {
  private final String name;
  private final Map<String, double[]> cosines = new LinkedHashMap<>();
  private final Map<String, Double> maxAbs = new LinkedHashMap<>();
  private int samples;

  /** Against the dense model's outputs, for the model called {@code name} in messages. */
  RawOutputMetrics(String name) {
    this.name = name;
  }

  /**
   * One batch of {@code batch} samples: both models' outputs, in their order, each [batch, ...].
   */
  void add(Map<String, FloatTensor> dense, Map<String, FloatTensor> other, int batch) {
    List<String> names = new ArrayList<>(dense.keySet());
    if (!names.equals(new ArrayList<>(other.keySet()))) {
      throw new SparsifyException(
          "the models disagree on their outputs: dense "
              + names
              + ", "
              + name
              + " "
              + other.keySet());
    }
    if (!cosines.isEmpty() && !names.equals(new ArrayList<>(cosines.keySet()))) {
      throw new SparsifyException(
          "the dense model's outputs changed between batches: " + cosines.keySet() + ", " + names);
    }
    for (String output : names) {
      FloatTensor d = dense.get(output);
      FloatTensor o = other.get(output);
      if (!Arrays.equals(d.shape(), o.shape())) {
        throw new SparsifyException(
            "the models disagree on output "
                + output
                + ": dense "
                + Arrays.toString(d.shape())
                + ", "
                + name
                + " "
                + Arrays.toString(o.shape()));
      }
      add(output, d.data(), o.data(), batch);
    }
    samples += batch;
  }

  private void add(String output, float[] dense, float[] other, int batch) {
    int width = dense.length / batch;
    double[] kept = cosines.getOrDefault(output, new double[64]);
    // Room doubles as it runs out: one copy per doubling, not per batch.
    double[] grown =
        kept.length >= samples + batch
            ? kept
            : Arrays.copyOf(kept, Math.max(2 * kept.length, samples + batch));
    double largest = maxAbs.getOrDefault(output, 0.0);
    for (int b = 0; b < batch; b++) {
      double dot = 0;
      double d2 = 0;
      double o2 = 0;
      for (int j = b * width; j < (b + 1) * width; j++) {
        dot += (double) dense[j] * other[j];
        d2 += (double) dense[j] * dense[j];
        o2 += (double) other[j] * other[j];
        largest = Math.max(largest, Math.abs((double) dense[j] - other[j]));
      }
      // Two all-zero answers are the same answer; one all-zero answer shares no direction.
      grown[samples + b] =
          d2 == 0 && o2 == 0 ? 1 : d2 == 0 || o2 == 0 ? 0 : dot / Math.sqrt(d2 * o2);
    }
    cosines.put(output, grown);
    maxAbs.put(output, largest);
  }

  int samples() {
    return samples;
  }

  /**
   * Each output's mean, least and 5th-percentile cosine and largest difference; the top-level
   * cosines are those of the output with the lowest mean.
   */
  EvaluationResult.Fidelity fidelity() {
    List<EvaluationResult.OutputFidelity> outputs = new ArrayList<>();
    cosines.forEach(
        (output, room) -> {
          double[] values = Arrays.copyOf(room, samples);
          double[] sorted = values.clone();
          Arrays.sort(sorted);
          outputs.add(
              new EvaluationResult.OutputFidelity(
                  output,
                  Arrays.stream(values).average().orElse(0),
                  sorted[0],
                  sorted[(int) Math.floor(0.05 * (sorted.length - 1))],
                  maxAbs.get(output)));
        });
    EvaluationResult.OutputFidelity worst =
        outputs.stream()
            // An output whose cosine is no number (an infinite value) is the worst: the gate
            // then finds no number and fails closed.
            .min(
                java.util.Comparator.comparingDouble(
                    o -> Double.isNaN(o.cosineMean()) ? Double.NEGATIVE_INFINITY : o.cosineMean()))
            .orElseThrow(() -> new SparsifyException("no output was compared"));
    return new EvaluationResult.Fidelity(
        worst.cosineMean(), worst.cosineMin(), worst.cosineP5(), null, null, outputs);
  }
}
