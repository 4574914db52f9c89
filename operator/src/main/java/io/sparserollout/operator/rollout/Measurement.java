package io.sparserollout.operator.rollout;

import java.util.Map;
import java.util.TreeMap;

/**
 * The canary's counters, summed over its pods since they started: requests, failed requests, the
 * latency histogram (cumulative counts by upper bound in seconds) and the shadow agreement sum,
 * count and sum of squared disagreements (1 - agreement). Scraping the pods and querying Prometheus
 * both produce one, so they judge alike.
 *
 * @param disagreementSquares the sum of squared disagreements; NaN when a pod does not export it
 *     (one from before it existed)
 */
public record Measurement(
    double requests,
    double errors,
    TreeMap<Double, Double> latencyBuckets,
    double agreementSum,
    double agreementCount,
    double disagreementSquares) {

  /** A measurement without the sum of squared disagreements. */
  public Measurement(
      double requests,
      double errors,
      TreeMap<Double, Double> latencyBuckets,
      double agreementSum,
      double agreementCount) {
    this(requests, errors, latencyBuckets, agreementSum, agreementCount, Double.NaN);
  }

  public static Measurement empty() {
    return new Measurement(0, 0, new TreeMap<>(), 0, 0, 0);
  }

  public Measurement plus(Measurement other) {
    TreeMap<Double, Double> buckets = new TreeMap<>(latencyBuckets);
    other.latencyBuckets.forEach((le, count) -> buckets.merge(le, count, Double::sum));
    return new Measurement(
        requests + other.requests,
        errors + other.errors,
        buckets,
        agreementSum + other.agreementSum,
        agreementCount + other.agreementCount,
        disagreementSquares + other.disagreementSquares);
  }

  public double errorRate() {
    return requests == 0 ? Double.NaN : errors / requests;
  }

  public double agreement() {
    return agreementCount == 0 ? Double.NaN : agreementSum / agreementCount;
  }

  /** The p99 latency in milliseconds, interpolated within its bucket as histogram_quantile does. */
  public double p99Ms() {
    return quantile(0.99) * 1000;
  }

  double quantile(double q) {
    if (latencyBuckets.isEmpty() || !latencyBuckets.containsKey(Double.POSITIVE_INFINITY)) {
      return Double.NaN;
    }
    double total = latencyBuckets.get(Double.POSITIVE_INFINITY);
    if (total == 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerBound = 0;
    double lowerCount = 0;
    for (Map.Entry<Double, Double> bucket : latencyBuckets.entrySet()) {
      if (bucket.getValue() >= rank) {
        if (bucket.getKey().isInfinite()) {
          return lowerBound;
        }
        double inBucket = bucket.getValue() - lowerCount;
        double fraction = inBucket == 0 ? 1 : (rank - lowerCount) / inBucket;
        return lowerBound + (bucket.getKey() - lowerBound) * fraction;
      }
      lowerBound = bucket.getKey();
      lowerCount = bucket.getValue();
    }
    return lowerBound;
  }
}
