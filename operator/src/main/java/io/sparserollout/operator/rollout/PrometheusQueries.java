package io.sparserollout.operator.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.sparserollout.stage.ServingMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;

/**
 * The same counters as {@link PodScraper}, summed by PromQL over the canary's pods. Expects the
 * usual Kubernetes scrape labels {@code namespace} and {@code pod} on the series.
 */
public final class PrometheusQueries implements MetricsSource {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final ObjectMapper json = new ObjectMapper();
  private final String baseUrl;

  /** The instant every query of one measurement is evaluated at, so the sums agree. */
  private String time;

  public PrometheusQueries(String baseUrl) {
    this.baseUrl = baseUrl.replaceAll("/+$", "");
  }

  /**
   * The series of exactly the given pods (those the Deployment's own ReplicaSets control), never a
   * name pattern: a pod anyone names like the canary's must not count.
   */
  static String selector(String namespace, List<Pod> pods) {
    String names =
        pods.stream()
            .map(p -> p.getMetadata().getName().replace(".", "\\\\."))
            .sorted()
            .collect(java.util.stream.Collectors.joining("|"));
    return "namespace=\"" + namespace + "\",pod=~\"" + names + "\"";
  }

  @Override
  public Measurement measure(String namespace, String deployment, List<Pod> pods)
      throws MetricsUnavailable {
    if (pods.isEmpty()) {
      return Measurement.empty();
    }
    String sel = selector(namespace, pods);
    time = String.format(java.util.Locale.ROOT, "%.3f", System.currentTimeMillis() / 1000.0);
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (JsonNode series :
        query("sum by (le) (" + PrometheusText.LATENCY_BUCKET + "{" + sel + "})")) {
      buckets.put(PrometheusText.number(series.path("metric").path("le").asText()), value(series));
    }
    return new Measurement(
        scalar("sum(" + PrometheusText.REQUESTS + "{" + sel + "})"),
        scalar(
            "sum("
                + PrometheusText.REQUESTS
                + "{"
                + sel
                + ","
                + ServingMetrics.OUTCOME
                + "=~\""
                + String.join("|", new java.util.TreeSet<>(PrometheusText.SERVER_FAILURES))
                + "\"})"),
        buckets,
        scalar("sum(" + PrometheusText.AGREEMENT_SUM + "{" + sel + "})"),
        scalar("sum(" + PrometheusText.AGREEMENT_COUNT + "{" + sel + "})"),
        squares(sel));
  }

  /**
   * The pods' summed squared disagreements; NaN when a pod with comparisons does not export them (a
   * pod from before the series existed), so a partial sum never narrows the interval.
   */
  private double squares(String sel) throws MetricsUnavailable {
    double without =
        scalar(
            "count("
                + PrometheusText.AGREEMENT_COUNT
                + "{"
                + sel
                + "} > 0 unless on (namespace, pod) "
                + PrometheusText.DISAGREEMENT_SQUARES
                + "{"
                + sel
                + "})");
    return without > 0
        ? Double.NaN
        : scalar("sum(" + PrometheusText.DISAGREEMENT_SQUARES + "{" + sel + "})");
  }

  private double scalar(String promql) throws MetricsUnavailable {
    JsonNode result = query(promql);
    return result.isEmpty() ? 0 : value(result.get(0));
  }

  private static double value(JsonNode series) {
    return PrometheusText.number(series.path("value").path(1).asText());
  }

  private static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  private JsonNode query(String promql) throws MetricsUnavailable {
    URI uri =
        URI.create(
            baseUrl
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8)
                + (time == null ? "" : "&time=" + time));
    try {
      HttpResponse<String> response = MetricsHttp.get(uri, TIMEOUT);
      JsonNode body;
      try {
        body = json.readTree(response.body());
      } catch (IOException notJson) {
        // Nothing of what answered is echoed: only Prometheus' own short error field ever is.
        throw new MetricsUnavailable(
            "Prometheus at " + baseUrl + " answered " + response.statusCode() + " without JSON");
      }
      if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
        throw new MetricsUnavailable(
            "Prometheus answered "
                + response.statusCode()
                + " to "
                + promql
                + ": "
                + abbreviate(body.path("error").asText("no error given")));
      }
      return body.path("data").path("result");
    } catch (IOException e) {
      throw new MetricsUnavailable("cannot query Prometheus at " + baseUrl + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MetricsUnavailable("interrupted querying Prometheus");
    }
  }
}
