package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.sparserollout.operator.rollout.AnalysisVerdict;
import io.sparserollout.operator.rollout.Measurement;
import io.sparserollout.operator.rollout.PodScraper;
import io.sparserollout.operator.rollout.PrometheusQueries;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two analysis providers agree: a real Prometheus (Debian's, run as a process) scrapes stand-in
 * inference pods, and PromQL over its series gives the same counters, and so the same verdict, as
 * scraping the pods directly. Pods of another Deployment are scraped too and must not leak into the
 * sums.
 */
class PrometheusProviderIT {
  static final int POD_PORT = 18081;
  static final String GOOD_DEPLOYMENT = "minilm-aaaaaaaaaa";
  static final String BAD_DEPLOYMENT = "minilm-bbbbbbbbbb";
  static final List<HttpServer> servers = new ArrayList<>();
  static final Map<String, Pod> pods = new java.util.LinkedHashMap<>();
  static Process prometheus;
  static String prometheusUrl;
  @TempDir static Path dir;

  @BeforeAll
  static void scrapeStandInPodsWithPrometheus() throws Exception {
    pod(
        GOOD_DEPLOYMENT + "-7d9f8c6b5-x2x4z",
        "127.0.0.201",
        FakeInferencePods.metrics(4000, 2, 0.99));
    pod(
        GOOD_DEPLOYMENT + "-7d9f8c6b5-k8s9q",
        "127.0.0.202",
        FakeInferencePods.metrics(250, 0, 0.97));
    pod(
        BAD_DEPLOYMENT + "-5c6d7f8b9-qw3rt",
        "127.0.0.203",
        FakeInferencePods.metrics(300, 30, 0.60));
    pod("minilm-dense-6b7c8d9f0-abcde", "127.0.0.204", FakeInferencePods.metrics(9000, 0, 1.0));
    // Named like the bad canary's pods but not one of them (no ReplicaSet of its Deployment
    // controls it): its perfect numbers must not be summed.
    pod(
        BAD_DEPLOYMENT + "-0f0f0f0f0-forge",
        "127.0.0.205",
        FakeInferencePods.metrics(9000, 0, 1.0));

    StringBuilder config =
        new StringBuilder(
            "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: pods\n    static_configs:\n");
    pods.forEach(
        (name, pod) ->
            config.append(
                "      - targets: ['%s:%d']\n        labels: {namespace: ml, pod: %s}\n"
                    .formatted(pod.getStatus().getPodIP(), POD_PORT, name)));
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config.toString());
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    prometheusUrl = "http://127.0.0.1:" + port;
    prometheus =
        new ProcessBuilder(
                binary(),
                "--config.file=" + file,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    // Every target scraped at least once.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> query("count(shadow_agreement_count)").contains("\"" + pods.size() + "\""));
  }

  @AfterAll
  static void stop() {
    if (prometheus != null) {
      prometheus.destroy();
    }
    servers.forEach(s -> s.stop(0));
  }

  @Test
  void prometheusAndDirectScrapingMeasureTheSameCountersAndReachTheSameVerdicts() throws Exception {
    var analysis = Fixtures.minilm().getSpec().rollout().analysis();
    for (String deployment : List.of(GOOD_DEPLOYMENT, BAD_DEPLOYMENT)) {
      List<Pod> ready =
          pods.entrySet().stream()
              .filter(e -> e.getKey().startsWith(deployment) && !e.getKey().endsWith("forge"))
              .map(Map.Entry::getValue)
              .toList();
      Measurement scraped = new PodScraper(POD_PORT).measure("ml", deployment, ready);
      Measurement queried = new PrometheusQueries(prometheusUrl).measure("ml", deployment, ready);

      assertThat(queried.requests()).isEqualTo(scraped.requests());
      assertThat(queried.errors()).isEqualTo(scraped.errors());
      assertThat(queried.latencyBuckets()).isEqualTo(scraped.latencyBuckets());
      assertThat(queried.agreementCount()).isEqualTo(scraped.agreementCount());
      assertThat(queried.agreementSum()).isCloseTo(scraped.agreementSum(), within(1e-9));
      assertThat(queried.disagreementSquares())
          .isCloseTo(scraped.disagreementSquares(), within(1e-9))
          .isNotNaN();
      AnalysisVerdict byScrape = AnalysisVerdict.judge(scraped, analysis);
      AnalysisVerdict byQuery = AnalysisVerdict.judge(queried, analysis);
      assertThat(byQuery.outcome()).isEqualTo(byScrape.outcome());
      assertThat(byQuery.message()).isEqualTo(byScrape.message());
    }
    assertThat(
            AnalysisVerdict.judge(
                    new PodScraper(POD_PORT)
                        .measure("ml", GOOD_DEPLOYMENT, List.of(pods.values().iterator().next())),
                    analysis)
                .outcome())
        .isEqualTo(AnalysisVerdict.Outcome.PASSED);
    assertThat(
            AnalysisVerdict.judge(
                    new PrometheusQueries(prometheusUrl)
                        .measure(
                            "ml",
                            BAD_DEPLOYMENT,
                            List.of(pods.get(BAD_DEPLOYMENT + "-5c6d7f8b9-qw3rt"))),
                    analysis)
                .message())
        .startsWith("error rate 0.1000 [")
        .contains("> maxErrorRate");
  }

  @Test
  void anUnreachablePrometheusIsUnavailableNotAFailedAnalysis() {
    var unreachable = new PrometheusQueries("http://127.0.0.1:1");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                unreachable.measure(
                    "ml", GOOD_DEPLOYMENT, List.of(pods.values().iterator().next())))
        .isInstanceOf(io.sparserollout.operator.rollout.MetricsSource.MetricsUnavailable.class)
        .hasMessageContaining("cannot query Prometheus at http://127.0.0.1:1");
  }

  private static void pod(String name, String ip, String metrics) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(ip, POD_PORT), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = metrics.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    servers.add(server);
    pods.put(
        name,
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewStatus()
            .withPodIP(ip)
            .endStatus()
            .build());
  }

  private static String query(String promql) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            prometheusUrl
                                + "/api/v1/query?query="
                                + java.net.URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  private static String binary() throws Exception {
    Process script =
        new ProcessBuilder("../scripts/prometheus.sh")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String path =
        new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (script.waitFor() != 0 || path.isEmpty()) {
      throw new IllegalStateException("scripts/prometheus.sh could not provide Prometheus");
    }
    return path;
  }
}
