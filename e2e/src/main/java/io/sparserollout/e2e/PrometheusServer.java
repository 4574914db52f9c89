package io.sparserollout.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Debian's Prometheus (scripts/prometheus.sh) scraping the local cluster's inference pods, run on
 * the node (in its network namespace, where pod addresses route) and listening on the node's
 * address, where the operator's pod reaches it; this machine reaches it through a bridge. Debian
 * builds Prometheus without kubernetes_sd, so the harness does that discovery's job: every second
 * it writes a file_sd target for each running pod annotated prometheus.io/scrape, at its address
 * and path, labelled namespace and pod as the usual kubernetes_sd relabeling would.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final int PORT = 9090;
  private final Process process;
  private final String url;
  private final String localUrl;
  private final Thread discovery;

  private PrometheusServer(Process process, String url, String localUrl, Thread discovery) {
    this.process = process;
    this.url = url;
    this.localUrl = localUrl;
    this.discovery = discovery;
  }

  public static PrometheusServer start(Path root, LocalCluster cluster, Path dir)
      throws IOException {
    KubernetesClient client = cluster.client();
    Files.createDirectories(dir);
    String binary = run(root.resolve("scripts/prometheus.sh"));
    Path targets = dir.resolve("targets.json");
    writeTargets(client, targets);
    String config =
        """
        global: {scrape_interval: 2s}
        scrape_configs:
          - job_name: inference-pods
            file_sd_configs: [{files: ['%s'], refresh_interval: 1s}]
        """
            .formatted(targets);
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
    String address = cluster.nodeAddress() + ":" + PORT;
    Process process =
        new ProcessBuilder(
                cluster.onNode(
                    List.of(
                        binary,
                        "--config.file=" + file,
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=" + address)))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    Thread discovery =
        new Thread(
            () -> {
              while (process.isAlive()) {
                try {
                  writeTargets(client, targets);
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                } catch (RuntimeException | IOException e) {
                  // The next round tries again.
                }
              }
            },
            "prometheus-discovery");
    discovery.setDaemon(true);
    discovery.start();
    var local = cluster.reach(cluster.nodeAddress(), PORT);
    awaitReady(local);
    return new PrometheusServer(
        process,
        "http://" + address,
        "http://" + local.getHostString() + ":" + local.getPort(),
        discovery);
  }

  private static void awaitReady(java.net.InetSocketAddress local) throws IOException {
    var http = java.net.http.HttpClient.newHttpClient();
    var ready =
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(
                    "http://" + local.getHostString() + ":" + local.getPort() + "/-/ready"))
            .timeout(java.time.Duration.ofSeconds(2))
            .build();
    for (int i = 0; i < 60; i++) {
      try {
        if (http.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode()
            == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    throw new IOException("Prometheus did not answer on the node within 30 s");
  }

  /** Its address inside the cluster (for the operator's pod). */
  public String url() {
    return url;
  }

  /** Its address from this machine. */
  public String localUrl() {
    return localUrl;
  }

  private static void writeTargets(KubernetesClient client, Path targets) throws IOException {
    List<Map<String, Object>> groups = new ArrayList<>();
    for (Pod pod : client.pods().inAnyNamespace().list().getItems()) {
      Map<String, String> annotations = pod.getMetadata().getAnnotations();
      if (annotations == null
          || !"true".equals(annotations.get("prometheus.io/scrape"))
          || pod.getMetadata().getDeletionTimestamp() != null
          || pod.getStatus() == null
          || !"Running".equals(pod.getStatus().getPhase())
          || pod.getStatus().getPodIP() == null) {
        continue;
      }
      groups.add(
          Map.of(
              "targets",
              List.of(pod.getStatus().getPodIP() + ":" + annotations.get("prometheus.io/port")),
              "labels",
              Map.of(
                  "namespace", pod.getMetadata().getNamespace(),
                  "pod", pod.getMetadata().getName(),
                  "__metrics_path__", annotations.getOrDefault("prometheus.io/path", "/metrics"))));
    }
    Path next = targets.resolveSibling("targets.json.next");
    Files.writeString(next, new ObjectMapper().writeValueAsString(groups));
    Files.move(next, targets, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String run(Path script) throws IOException {
    Process p =
        new ProcessBuilder(script.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    try {
      if (p.waitFor() != 0 || out.isEmpty()) {
        throw new IOException(script + " could not provide Prometheus");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return out;
  }

  @Override
  public void close() {
    process.destroy();
    discovery.interrupt();
  }
}
