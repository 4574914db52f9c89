package io.sparserollout.sparsify.engine;

import io.sparserollout.stage.EngineResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times several engines alike: warm, at each shape, in repetitions that take turns between the
 * engines so that a slow moment of a shared machine falls on all of them, not on one.
 */
public final class VariantTimer {
  static final int WARMUP = 1;
  static final int REPETITIONS = 5;
  static final int RUNS_PER_REPETITION = 4;

  /** One engine, ready to run a batch of the given shape (inputs prepared once per shape). */
  public interface Runner extends AutoCloseable {
    void run(int batch, int sequence);

    @Override
    void close();
  }

  private VariantTimer() {}

  /** The timings of each runner (in the map's order) at each {batch, sequence} shape. */
  public static Map<String, List<EngineResult.Timing>> time(
      Map<String, Runner> runners, List<int[]> shapes) {
    Map<String, List<EngineResult.Timing>> timings = new LinkedHashMap<>();
    runners.keySet().forEach(name -> timings.put(name, new ArrayList<>()));
    for (int[] shape : shapes) {
      int batch = shape[0];
      int sequence = shape[1];
      Map<String, double[]> latencies = new LinkedHashMap<>();
      Map<String, double[]> repetitionMedians = new LinkedHashMap<>();
      runners.forEach(
          (name, runner) -> {
            for (int i = 0; i < WARMUP; i++) {
              runner.run(batch, sequence);
            }
            latencies.put(name, new double[REPETITIONS * RUNS_PER_REPETITION]);
            repetitionMedians.put(name, new double[REPETITIONS]);
          });
      for (int rep = 0; rep < REPETITIONS; rep++) {
        for (var entry : runners.entrySet()) {
          double[] times = new double[RUNS_PER_REPETITION];
          for (int i = 0; i < RUNS_PER_REPETITION; i++) {
            long start = System.nanoTime();
            entry.getValue().run(batch, sequence);
            times[i] = (System.nanoTime() - start) / 1e6;
          }
          System.arraycopy(
              times,
              0,
              latencies.get(entry.getKey()),
              rep * RUNS_PER_REPETITION,
              RUNS_PER_REPETITION);
          repetitionMedians.get(entry.getKey())[rep] = batch * 1000 / percentile(times, 0.5);
        }
      }
      for (String name : runners.keySet()) {
        timings
            .get(name)
            .add(timing(batch, sequence, latencies.get(name), repetitionMedians.get(name)));
      }
    }
    return timings;
  }

  static EngineResult.Timing timing(
      int batch, int sequence, double[] latencies, double[] perSecondByRepetition) {
    double p50 = percentile(latencies, 0.5);
    double median = percentile(perSecondByRepetition, 0.5);
    double[] sorted = perSecondByRepetition.clone();
    Arrays.sort(sorted);
    return new EngineResult.Timing(
        batch,
        sequence,
        latencies.length,
        round(p50),
        round(percentile(latencies, 0.99)),
        round(batch * 1000 / p50),
        round((sorted[sorted.length - 1] - sorted[0]) / median),
        Arrays.stream(perSecondByRepetition).map(VariantTimer::round).boxed().toList());
  }

  /** Nearest-rank percentile. */
  static double percentile(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The opt shape, then the max shape when it differs. */
  public static List<int[]> shapes(int[] batch, int[] sequence) {
    List<int[]> shapes = new ArrayList<>();
    shapes.add(new int[] {batch[1], sequence[1]});
    if (batch[2] != batch[1] || sequence[2] != sequence[1]) {
      shapes.add(new int[] {batch[2], sequence[2]});
    }
    return shapes;
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
