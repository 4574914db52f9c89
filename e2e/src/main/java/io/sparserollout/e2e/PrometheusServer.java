package io.sparserollout.e2e;

import io.fabric8.kubernetes.client.Config;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Debian's Prometheus (scripts/prometheus.sh) discovering the inference pods through the local
 * cluster's API server, as it does in a cluster: kubernetes_sd pods annotated prometheus.io/scrape,
 * scraped at their address, labelled with namespace and pod.
 */
public final class PrometheusServer implements AutoCloseable {
  private final Process process;
  private final String url;

  private PrometheusServer(Process process, String url) {
    this.process = process;
    this.url = url;
  }

  public static PrometheusServer start(Path root, Config cluster, Path dir) throws IOException {
    Files.createDirectories(dir);
    String binary = run(root.resolve("scripts/prometheus.sh"));
    Path ca = file(dir, "ca.crt", cluster.getCaCertFile(), cluster.getCaCertData());
    Path cert = file(dir, "client.crt", cluster.getClientCertFile(), cluster.getClientCertData());
    Path key = file(dir, "client.key", cluster.getClientKeyFile(), cluster.getClientKeyData());
    String config =
        """
        global: {scrape_interval: 2s}
        scrape_configs:
          - job_name: inference-pods
            kubernetes_sd_configs:
              - role: pod
                api_server: %s
                tls_config: {ca_file: %s, cert_file: %s, key_file: %s}
            relabel_configs:
              - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
                action: keep
                regex: "true"
              - source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port]
                separator: ":"
                target_label: __address__
              - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
                target_label: __metrics_path__
              - source_labels: [__meta_kubernetes_namespace]
                target_label: namespace
              - source_labels: [__meta_kubernetes_pod_name]
                target_label: pod
        """
            .formatted(cluster.getMasterUrl(), ca, cert, key);
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Process process =
        new ProcessBuilder(
                binary,
                "--config.file=" + file,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    return new PrometheusServer(process, "http://127.0.0.1:" + port);
  }

  public String url() {
    return url;
  }

  private static Path file(Path dir, String name, String file, String data) throws IOException {
    if (file != null) {
      return Path.of(file);
    }
    return Files.write(dir.resolve(name), Base64.getDecoder().decode(data));
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
  }
}
