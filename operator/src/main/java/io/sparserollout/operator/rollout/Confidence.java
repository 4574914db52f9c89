package io.sparserollout.operator.rollout;

/**
 * Two-sided confidence intervals for the canary's analysis, as pure functions: the Wilson score
 * interval for a rate (failed requests of all requests), and the normal-approximation interval for
 * a mean (shadow agreement) from its sum, sum of squares and count.
 */
public final class Confidence {
  private Confidence() {}

  /** A closed interval; NaN ends where nothing was measured. */
  public record Interval(double low, double high) {
    static final Interval UNKNOWN = new Interval(Double.NaN, Double.NaN);

    boolean known() {
      return !Double.isNaN(low) && !Double.isNaN(high);
    }
  }

  /** The standard normal quantile z with P(|Z| <= z) = confidence. */
  public static double z(double confidence) {
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1): " + confidence);
    }
    return normalQuantile(0.5 + confidence / 2);
  }

  /**
   * The Wilson score interval of a rate from {@code successes} of {@code trials}: unlike the plain
   * normal interval it stays inside [0, 1] and is not degenerate at 0 events, so "0 failures of 50
   * requests" is an upper bound of about 7%, not 0.
   */
  public static Interval wilson(double successes, double trials, double z) {
    if (trials <= 0) {
      return Interval.UNKNOWN;
    }
    double p = Math.min(1, Math.max(0, successes / trials));
    double z2 = z * z;
    double centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
    double half =
        z * Math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials);
    return new Interval(Math.max(0, centre - half), Math.min(1, centre + half));
  }

  /**
   * The interval of the mean of values within [0, 1] (shadow agreements) from their sum, count and
   * sum of squared distances from 1 ({@code disagreementSquares}, Σ(1 − x)²):
   *
   * <ul>
   *   <li>values that are all 0 or 1 (top-1 agreement, or every output identical) are a rate: the
   *       Wilson interval, which a normal interval would shrink to a point at 30 of 30;
   *   <li>otherwise mean ± z·s/√n with the sample standard deviation s, never below a
   *       pseudo-count's worth (the bound over n), so identical values do not make a point either;
   *   <li>without the squares (NaN: pods that do not export them), or with squares that cannot
   *       belong to these values (counters read at different moments), s is taken at its largest
   *       for that mean, the Bhatia–Davis bound √(mean(1 − mean)): wider, never narrower.
   * </ul>
   */
  public static Interval mean(double sum, double disagreementSquares, double count, double z) {
    if (count <= 0 || !Double.isFinite(sum) || !Double.isFinite(count)) {
      return Interval.UNKNOWN;
    }
    double mean = Math.min(1, Math.max(0, sum / count));
    double disagreement = count - sum;
    double bound = mean * (1 - mean);
    double squares = disagreementSquares;
    // Each (1 - x)² is at most 1 - x: equal throughout only when every value is 0 or 1.
    if (!Double.isNaN(squares) && count >= 2 && squares >= disagreement - 1e-9 * count) {
      return wilson(sum, count, z);
    }
    double variance = bound;
    if (!Double.isNaN(squares) && count >= 2) {
      double centred = squares - disagreement * disagreement / count;
      if (centred >= -1e-6 * count) {
        variance = Math.min(bound, Math.max(0, centred) / (count - 1));
      }
    }
    variance = Math.max(variance, bound / count);
    double half = z * Math.sqrt(variance / count);
    return new Interval(Math.max(0, mean - half), Math.min(1, mean + half));
  }

  /**
   * The upper end of a (1 − alpha)·100% interval of a mean of values in [0, 1] that holds at any
   * sample size (Hoeffding's inequality), for failing a canary before the normal approximation is
   * trusted: mean + √(ln(2/alpha) / 2n).
   */
  public static double hoeffdingHigh(double sum, double count, double confidence) {
    if (count <= 0) {
      return Double.NaN;
    }
    return Math.min(1, sum / count + Math.sqrt(Math.log(2 / (1 - confidence)) / (2 * count)));
  }

  /**
   * The inverse of the standard normal distribution function (Acklam's rational approximation,
   * relative error below 1.2e-9).
   */
  static double normalQuantile(double p) {
    double[] a = {
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
    };
    double[] b = {
      -5.447609879822406e+01,
      1.615858368580409e+02,
      -1.556989798598866e+02,
      6.680131188771972e+01,
      -1.328068155288572e+01
    };
    double[] c = {
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    };
    double[] d = {
      7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    };
    double low = 0.02425;
    if (p < low) {
      double q = Math.sqrt(-2 * Math.log(p));
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - low) {
      return -normalQuantile(1 - p);
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
}
