package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** Reads /metrics of every ready canary pod and sums the counters. */
public final class PodScraper implements MetricsSource {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private final int port;

  public PodScraper(int port) {
    this.port = port;
  }

  @Override
  public Measurement measure(String namespace, String deployment, List<Pod> pods)
      throws MetricsUnavailable {
    Measurement total = Measurement.empty();
    for (Pod pod : pods) {
      String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
      if (ip == null) {
        continue;
      }
      URI uri = URI.create("http://" + ip + ":" + port + "/metrics");
      try {
        HttpResponse<String> response = MetricsHttp.get(uri, TIMEOUT);
        if (response.statusCode() != 200) {
          throw new MetricsUnavailable(uri + " answered " + response.statusCode());
        }
        total = total.plus(PrometheusText.parse(response.body()));
      } catch (MetricsUnavailable e) {
        throw new MetricsUnavailable(uri + ": " + e.getMessage());
      } catch (IOException e) {
        throw new MetricsUnavailable("cannot scrape " + uri + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new MetricsUnavailable("interrupted scraping " + uri);
      }
    }
    return total;
  }
}
