package io.sparserollout.operator;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.rollout.ServingResources;
import io.sparserollout.stage.ServingMetrics;
import io.sparserollout.testing.TestKubelet;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Plays the kubelet for inference pods in one namespace: each pod the ReplicaSet controller creates
 * gets its own loopback address, is reported Running and Ready, and serves stand-in /metrics there
 * (text chosen by the pod's revision) for the operator to scrape. Pods of a revision listed as
 * broken stay Pending, as pods whose image never starts.
 */
final class FakeInferencePods implements AutoCloseable {
  private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(2);
  private final KubernetesClient client;
  private final TestKubelet kubelet;
  private final String namespace;
  private final int port;
  private final Map<String, String> addresses = new ConcurrentHashMap<>();
  private final Map<String, HttpServer> servers = new ConcurrentHashMap<>();
  private final Thread loop;
  private volatile Function<String, String> metricsByRevision;
  private final Map<String, String> metricsByPod = new ConcurrentHashMap<>();
  private volatile List<String> neverReady = List.of();
  private volatile boolean running = true;

  FakeInferencePods(
      KubernetesClient client,
      String namespace,
      int port,
      Function<String, String> metricsByRevision) {
    this.client = client;
    this.kubelet = new TestKubelet(client);
    this.namespace = namespace;
    this.port = port;
    this.metricsByRevision = metricsByRevision;
    this.loop = new Thread(this::run, "fake-inference-pods-" + namespace);
    loop.setDaemon(true);
    loop.start();
  }

  /** Pods of these revisions never become ready. */
  void neverReady(String... revisions) {
    neverReady = List.of(revisions);
  }

  void serveMetrics(Function<String, String> byRevision) {
    metricsByRevision = byRevision;
  }

  /** The named pod serves this text whatever its revision. */
  void serveMetrics(String pod, String text) {
    metricsByPod.put(pod, text);
  }

  /**
   * Stand-in /metrics of an inference pod: the series the analysis reads, typed as Micrometer
   * writes them. Half the comparisons agree 0.01 above {@code agreement}, half 0.01 below.
   */
  static String metrics(int requests, int errors, double agreement) {
    int compared = requests / 2;
    return metrics(
        requests,
        errors,
        compared,
        compared * agreement,
        compared * ((1 - agreement) * (1 - agreement) + 0.0001));
  }

  /** The same with the shadow counters given: comparisons, their sum and squared disagreements. */
  static String metrics(
      int requests, int errors, int compared, double agreementSum, double squares) {
    return """
        # TYPE %1$s counter
        %1$s{model="m",outcome="%2$s"} %%d.0
        %1$s{model="m",outcome="%3$s"} %%d.0
        # TYPE %4$s histogram
        %4$s_bucket{model="m",le="0.005"} %%d.0
        %4$s_bucket{model="m",le="0.05"} %%d.0
        %4$s_bucket{model="m",le="+Inf"} %%d.0
        %4$s_count{model="m"} %%d.0
        %4$s_sum{model="m"} %%s
        # TYPE %5$s summary
        %5$s_count{model="m"} %%d.0
        %5$s_sum{model="m"} %%s
        # TYPE %6$s counter
        %6$s{model="m"} %%s
        """
        .formatted(
            ServingMetrics.REQUESTS_TOTAL,
            ServingMetrics.SUCCESS,
            ServingMetrics.SERVER_ERROR,
            ServingMetrics.REQUEST_DURATION + "_seconds",
            ServingMetrics.SHADOW_AGREEMENT,
            ServingMetrics.SHADOW_DISAGREEMENT_SQUARES_TOTAL)
        .formatted(
            requests - errors,
            errors,
            requests / 2,
            requests,
            requests,
            requests,
            requests * 0.006,
            compared,
            agreementSum,
            squares);
  }

  private void run() {
    while (running) {
      try {
        for (Pod pod :
            client
                .pods()
                .inNamespace(namespace)
                .withLabel(ServingResources.COMPONENT, ServingResources.INFERENCE)
                .list()
                .getItems()) {
          String revision = pod.getMetadata().getLabels().get(StageJobs.REVISION_LABEL);
          if (pod.getMetadata().getDeletionTimestamp() == null
              && !addresses.containsKey(pod.getMetadata().getName())
              && !neverReady.contains(revision)) {
            start(pod, revision);
          }
        }
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      } catch (KubernetesClientException | IOException e) {
        // The next round retries (a conflict with the controller's own writes, say).
      }
    }
  }

  private void start(Pod pod, String revision) throws IOException {
    String ip = "127.0.0." + NEXT_ADDRESS.getAndIncrement();
    HttpServer server = HttpServer.create(new InetSocketAddress(ip, port), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          String name = pod.getMetadata().getName();
          byte[] body =
              metricsByPod
                  .getOrDefault(name, metricsByRevision.apply(revision))
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    servers.put(pod.getMetadata().getName(), server);
    try {
      kubelet.running(pod, ip);
    } catch (KubernetesClientException e) {
      servers.remove(pod.getMetadata().getName()).stop(0);
      throw e;
    }
    addresses.put(pod.getMetadata().getName(), ip);
  }

  @Override
  public void close() {
    running = false;
    loop.interrupt();
    servers.values().forEach(s -> s.stop(0));
  }
}
