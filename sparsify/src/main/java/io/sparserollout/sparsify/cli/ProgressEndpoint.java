package io.sparserollout.sparsify.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sparserollout.stage.StageProgress;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Serves the stage's latest {@link StageProgress} at GET /progress, on the port {@code
 * SPARSIFY_PROGRESS_PORT} names (nothing when unset, or when it cannot listen there: progress is
 * only shown, so the stage runs on). Read-only: it answers nothing else.
 */
final class ProgressEndpoint implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  private volatile byte[] latest;

  private ProgressEndpoint(HttpServer server) {
    this.server = server;
  }

  /** One that serves nothing (and keeps only the latest value). */
  static ProgressEndpoint none() {
    return new ProgressEndpoint(null);
  }

  /** The endpoint the environment asks for, else {@link #none}. */
  static ProgressEndpoint fromEnvironment() {
    return on(System.getenv(StageProgress.PORT_ENV));
  }

  /** Serving on {@code port} (0: any free one), else {@link #none} when it is unset. */
  static ProgressEndpoint on(String port) {
    if (port == null || port.isBlank()) {
      return none();
    }
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(port)), 8);
      ProgressEndpoint endpoint = new ProgressEndpoint(server);
      server.createContext("/", endpoint::answer);
      server.setExecutor(
          Executors.newSingleThreadExecutor(
              r -> {
                Thread thread = new Thread(r, "progress-endpoint");
                thread.setDaemon(true);
                return thread;
              }));
      server.start();
      return endpoint;
    } catch (IOException | RuntimeException e) {
      // Progress is only shown: the stage runs on without it.
      System.err.println(
          StageProgress.PORT_ENV
              + "="
              + port
              + ": cannot serve progress there ("
              + e.getMessage()
              + "); the stage runs on without it");
      return none();
    }
  }

  int port() {
    return server == null ? -1 : server.getAddress().getPort();
  }

  void update(StageProgress progress) {
    try {
      latest = JSON.writeValueAsBytes(progress);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = latest;
      int status;
      if (!"GET".equals(exchange.getRequestMethod())) {
        status = 405;
        body = "only GET\n".getBytes(StandardCharsets.UTF_8);
      } else if (!StageProgress.PATH.equals(exchange.getRequestURI().getPath())) {
        status = 404;
        body =
            ("not found; progress is at " + StageProgress.PATH + "\n")
                .getBytes(StandardCharsets.UTF_8);
      } else if (body == null) {
        status = 503;
        body = "no progress yet\n".getBytes(StandardCharsets.UTF_8);
      } else {
        status = 200;
        exchange.getResponseHeaders().set("Content-Type", "application/json");
      }
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
  }
}
