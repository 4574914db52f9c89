package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged server on the real MiniLM with few connections allowed: clients holding every
 * serving connection cannot make the kubelet's probes fail, because they have their own port.
 */
class ManagementPortIT {
  @Test
  void clientsHoldingEveryConnectionLeaveTheProbesAnswered() throws Exception {
    int port = MiniLmCurlIT.freePort();
    int management = MiniLmCurlIT.freePort();
    Path log = Path.of(System.getProperty("work.dir")).resolve("server-management.log");
    Process server =
        MiniLmCurlIT.start(
            log,
            Map.of(
                "MODEL_NAME",
                "minilm",
                "MODEL_PATH",
                MiniLmCurlIT.minilm().toString(),
                "PORT",
                Integer.toString(port),
                "MANAGEMENT_PORT",
                Integer.toString(management),
                "MAX_CONNECTIONS",
                "4",
                "IDLE_TIMEOUT",
                "120s"));
    List<Socket> held = new ArrayList<>();
    try {
      Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
      while (!status(management, "/health/ready").equals("200")) {
        assertThat(server.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(Instant.now()).as("ready within 90 s").isBefore(deadline);
        Thread.sleep(300);
      }
      assertThat(status(port, "/v2/health/ready")).isEqualTo("200");

      // A client (a pool of keep-alive connections) holds every connection the serving port
      // allows: each sent one request and stays open.
      for (int i = 0; i < 4; i++) {
        Socket socket = new Socket("127.0.0.1", port);
        socket
            .getOutputStream()
            .write(
                "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII))
            .isEqualTo("HTTP/1.1 200");
        held.add(socket);
      }

      assertThat(status(port, "/v2/health/ready"))
          .as("the serving port takes no more connections")
          .isNotEqualTo("200");
      for (int i = 0; i < 10; i++) {
        assertThat(status(management, "/health/ready")).isEqualTo("200");
        assertThat(status(management, "/health/live")).isEqualTo("200");
      }
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** As the kubelet probes: a 2 s timeout, the status code or 000 when nothing came back. */
  private static String status(int port, String path) throws Exception {
    return MiniLmCurlIT.curl(
        "-s",
        "--max-time",
        "2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://127.0.0.1:" + port + path);
  }
}
