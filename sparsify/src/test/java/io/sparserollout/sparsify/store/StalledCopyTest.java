package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StalledCopyTest {
  @TempDir Path dir;

  @Test
  void aBodyThatStopsFlowingIsAbandoned() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/model.onnx",
        exchange -> {
          exchange.sendResponseHeaders(200, 1 << 20);
          exchange.getResponseBody().write(new byte[1024]);
          exchange.getResponseBody().flush();
          try {
            release.await();
          } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
          }
          exchange.close();
        });
    server.start();
    try {
      HttpResponse<InputStream> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + server.getAddress().getPort() + "/model.onnx"))
                      .build(),
                  HttpResponse.BodyHandlers.ofInputStream());

      assertThatThrownBy(
              () -> StalledCopy.copy(response.body(), dir.resolve("x"), Duration.ofMillis(300)))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("no data for");
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  @Test
  void aBodyThatFlowsIsCopied() throws IOException {
    StalledCopy.copy(
        new ByteArrayInputStream(new byte[] {4, 5}), dir.resolve("y"), Duration.ofSeconds(5));

    assertThat(Files.readAllBytes(dir.resolve("y"))).containsExactly(4, 5);
  }
}
