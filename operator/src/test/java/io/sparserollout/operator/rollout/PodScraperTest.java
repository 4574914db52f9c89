package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Metric reads end within their deadline whatever the pod's server does. */
class PodScraperTest {
  private final List<Socket> held = new ArrayList<>();
  private ServerSocket server;

  @AfterEach
  void close() throws IOException {
    for (Socket s : held) {
      s.close();
    }
    server.close();
  }

  @Test
  void aServerThatAcceptsAnUpgradeAndThenStallsIsUnavailableWithinTheDeadline() throws Exception {
    AtomicReference<String> request = new AtomicReference<>();
    int port = serve(request, true);
    Instant start = Instant.now();

    assertThatThrownBy(() -> new PodScraper(port).measure("ml", "m", List.of(pod())))
        .isInstanceOf(MetricsSource.MetricsUnavailable.class);

    assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(15));
    // Metrics are plain HTTP/1.1: no h2c upgrade that the JDK client may never time out.
    assertThat(request.get()).doesNotContainIgnoringCase("upgrade: h2c");
  }

  @Test
  void aBodyOverTheCapIsUnavailableAndNeverReadWhole() throws Exception {
    server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread serving =
        new Thread(
            () -> {
              try (Socket s = server.accept()) {
                s.getInputStream().read(new byte[4096]);
                OutputStream out = s.getOutputStream();
                out.write(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] line = "inference_requests_total 1\n".getBytes(StandardCharsets.US_ASCII);
                // An endless body: a hostile or broken endpoint streaming forever.
                while (true) {
                  out.write(line);
                }
              } catch (IOException expected) {
                // The operator hung up.
              }
            });
    serving.setDaemon(true);
    serving.start();
    long heapBefore = usedHeap();

    assertThatThrownBy(
            () -> new PodScraper(server.getLocalPort()).measure("ml", "m", List.of(pod())))
        .isInstanceOf(MetricsSource.MetricsUnavailable.class)
        .hasMessageContaining("larger than 4096 KiB");

    assertThat(usedHeap() - heapBefore).isLessThan(64L << 20);
  }

  private static long usedHeap() {
    System.gc();
    return Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
  }

  @Test
  void aServerThatNeverAnswersIsUnavailableWithinTheDeadline() throws Exception {
    int port = serve(new AtomicReference<>(), false);
    Instant start = Instant.now();

    assertThatThrownBy(() -> new PodScraper(port).measure("ml", "m", List.of(pod())))
        .isInstanceOf(MetricsSource.MetricsUnavailable.class)
        .hasMessageContaining("/metrics");

    assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(15));
  }

  private static Pod pod() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("m-1")
        .endMetadata()
        .withNewStatus()
        .withPodIP("127.0.0.1")
        .endStatus()
        .build();
  }

  /** A server that reads one request and then, upgrading to h2c if asked, never answers more. */
  private int serve(AtomicReference<String> request, boolean acceptUpgrade) throws IOException {
    server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    Thread thread =
        new Thread(
            () -> {
              try {
                while (true) {
                  Socket socket = server.accept();
                  held.add(socket);
                  String head = readHead(socket.getInputStream());
                  request.compareAndSet(null, head);
                  if (acceptUpgrade && head.toLowerCase().contains("upgrade: h2c")) {
                    socket
                        .getOutputStream()
                        .write(
                            ("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\n"
                                    + "upgrade: h2c\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                  }
                }
              } catch (IOException e) {
                // Closed by the test.
              }
            });
    thread.setDaemon(true);
    thread.start();
    return server.getLocalPort();
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }
}
