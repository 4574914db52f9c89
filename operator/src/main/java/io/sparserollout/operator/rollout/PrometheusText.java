package io.sparserollout.operator.rollout;

import io.sparserollout.stage.ServingMetrics;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the inference pod's counters from its Prometheus text exposition (/metrics). */
public final class PrometheusText {
  static final String REQUESTS = ServingMetrics.REQUESTS_TOTAL;

  /**
   * The outcomes that count against a canary: the server's failures. {@code client_error} (400,
   * 404) and {@code overloaded} (429) are the client's or the load's.
   */
  static final java.util.Set<String> SERVER_FAILURES = ServingMetrics.SERVER_FAILURES;

  static final String LATENCY_BUCKET = ServingMetrics.REQUEST_DURATION_BUCKET;
  static final String AGREEMENT_SUM = ServingMetrics.SHADOW_AGREEMENT_SUM;
  static final String AGREEMENT_COUNT = ServingMetrics.SHADOW_AGREEMENT_COUNT;
  static final String DISAGREEMENT_SQUARES = ServingMetrics.SHADOW_DISAGREEMENT_SQUARES_TOTAL;
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+\\S+)?$");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private PrometheusText() {}

  /**
   * The counters the analysis reads; a sample whose value or {@code le} is not a number makes the
   * whole text unusable (a scrape of something that is not an inference pod, say).
   */
  public static Measurement parse(String text) throws MetricsSource.MetricsUnavailable {
    double requests = 0;
    double errors = 0;
    double agreementSum = 0;
    double agreementCount = 0;
    double disagreementSquares = 0;
    boolean squaresExported = false;
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.strip());
      if (!m.matches()) {
        continue;
      }
      double value;
      Map<String, String> labels = labels(m.group(3));
      try {
        value = number(m.group(4));
        if (m.group(1).equals(LATENCY_BUCKET)) {
          number(String.valueOf(labels.get("le")));
        }
      } catch (NumberFormatException e) {
        throw new MetricsSource.MetricsUnavailable(
            "a sample of " + abbreviate(m.group(1)) + " is not a number");
      }
      switch (m.group(1)) {
        case REQUESTS -> {
          requests += value;
          if (SERVER_FAILURES.contains(labels.get(ServingMetrics.OUTCOME))) {
            errors += value;
          }
        }
        case LATENCY_BUCKET -> buckets.merge(number(labels.get("le")), value, Double::sum);
        case AGREEMENT_SUM -> agreementSum += value;
        case AGREEMENT_COUNT -> agreementCount += value;
        case DISAGREEMENT_SQUARES -> {
          disagreementSquares += value;
          squaresExported = true;
        }
        default -> {}
      }
    }
    return new Measurement(
        requests,
        errors,
        buckets,
        agreementSum,
        agreementCount,
        squaresExported || agreementCount == 0 ? disagreementSquares : Double.NaN);
  }

  private static String abbreviate(String name) {
    return name.length() <= 80 ? name : name.substring(0, 80) + "...";
  }

  static double number(String text) {
    return switch (text) {
      case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(text);
    };
  }

  private static Map<String, String> labels(String text) {
    Map<String, String> labels = new HashMap<>();
    if (text != null) {
      Matcher m = LABEL.matcher(text);
      while (m.find()) {
        labels.put(m.group(1), m.group(2));
      }
    }
    return labels;
  }
}
