package io.sparserollout.stage;

import java.util.List;

/**
 * How much faster one variant is than another, with a 95% confidence interval. The engine Job times
 * the variants in turns, so repetition k of each ran at the same moment of the node: the ratios are
 * taken repetition by repetition (a slow moment cancels), and Student's t interval of the mean of
 * their logarithms gives the interval of the geometric-mean ratio. Without paired repetitions (an
 * older stage image's result) the interval is the point ratio of the medians.
 */
public record SpeedRatio(double low, double estimate, double high) {
  /** Two-sided 97.5% quantiles of Student's t for 1 to 30 degrees of freedom. */
  private static final double[] T975 = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042
  };

  /**
   * The throughput of {@code a} over that of {@code b}, or null when either is missing or not
   * positive.
   *
   * @param aRate a's throughput (median of its runs)
   * @param aRepetitions a's throughput per repetition, in the order they ran; may be null
   */
  public static SpeedRatio of(
      Double aRate, List<Double> aRepetitions, Double bRate, List<Double> bRepetitions) {
    if (aRate == null || bRate == null || !(aRate > 0) || !(bRate > 0)) {
      return null;
    }
    double point = aRate / bRate;
    if (aRepetitions == null || bRepetitions == null) {
      return new SpeedRatio(point, point, point); // an older stage image: medians only
    }
    // Repetitions that are there but unusable (a count that differs, a value that is no
    // positive finite number) prove nothing: the pairs left count, and fewer than two show no
    // lead at all.
    List<Double> logRatios = new java.util.ArrayList<>();
    for (int i = 0; i < Math.min(aRepetitions.size(), bRepetitions.size()); i++) {
      Double a = aRepetitions.get(i);
      Double b = bRepetitions.get(i);
      if (aRepetitions.size() == bRepetitions.size() && usable(a) && usable(b)) {
        logRatios.add(Math.log(a / b));
      }
    }
    int n = logRatios.size();
    if (n < 2) {
      return new SpeedRatio(0, point, Double.POSITIVE_INFINITY);
    }
    double[] logs = logRatios.stream().mapToDouble(Double::doubleValue).toArray();
    double mean = 0;
    for (double l : logs) {
      mean += l / n;
    }
    double squares = 0;
    for (double l : logs) {
      squares += (l - mean) * (l - mean);
    }
    double half = t975(n - 1) * Math.sqrt(squares / (n - 1) / n);
    return new SpeedRatio(Math.exp(mean - half), Math.exp(mean), Math.exp(mean + half));
  }

  private static boolean usable(Double value) {
    return value != null && value > 0 && !value.isInfinite() && !value.isNaN();
  }

  /** Student's t quantile; past the table, the normal one with its first Cornish-Fisher term. */
  static double t975(int degreesOfFreedom) {
    return degreesOfFreedom <= T975.length
        ? T975[degreesOfFreedom - 1]
        : 1.96 + 2.37 / degreesOfFreedom;
  }

  /** "1.35x (95% 1.30-1.40x)", or "1.35x" where the interval is a point. */
  public String describe() {
    String point = String.format(java.util.Locale.ROOT, "%.2fx", estimate);
    if (Double.isInfinite(high)) {
      return point + " (repetitions unusable: no lead shown)";
    }
    String interval = String.format(java.util.Locale.ROOT, " (95%% %.2f-%.2fx)", low, high);
    String[] ends = interval.substring(6, interval.length() - 2).split("-");
    return ends[0].equals(ends[1]) ? point : point + interval;
  }
}
