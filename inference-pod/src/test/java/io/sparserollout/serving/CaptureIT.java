package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Two packaged servers on the real MiniLM, as two pods of one model sharing the store's capture
 * folder: clients' requests are captured as replayable v2 requests, and the limits hold for both
 * processes together while they write at once.
 */
class CaptureIT {
  private static final int PER_HOUR = 25;
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void twoPodsCaptureReplayableRowsWithinOneSharedLimit() throws Exception {
    Path work = Files.createDirectories(Path.of(System.getProperty("work.dir")));
    Path dir = Files.createTempDirectory(work, "capture");
    List<Process> servers = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    try {
      for (String pod : List.of("minilm-a", "minilm-b")) {
        int port = MiniLmCurlIT.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("MODEL_NAME", "minilm");
        env.put("MODEL_PATH", MiniLmCurlIT.minilm().toString());
        env.put("PORT", Integer.toString(port));
        env.put("MANAGEMENT_PORT", Integer.toString(MiniLmCurlIT.freePort()));
        env.put("GRPC_PORT", Integer.toString(MiniLmCurlIT.freePort()));
        env.put("HOSTNAME", pod);
        env.put("CAPTURE_DIR", dir.toString());
        env.put("CAPTURE_ENABLED", "true");
        env.put("CAPTURE_FRACTION", "1.0");
        env.put("CAPTURE_MAX_PER_HOUR", Integer.toString(PER_HOUR));
        // The same total: a run across an hour's end keeps the same count.
        env.put("CAPTURE_MAX_TOTAL", Integer.toString(PER_HOUR));
        env.put("CAPTURE_RETENTION", "3600s");
        Path log = work.resolve("server-capture-" + pod + ".log");
        servers.add(MiniLmCurlIT.start(log, env));
        ports.add(port);
        MiniLmCurlIT.awaitReady(servers.get(servers.size() - 1), port, log);
        // At start, before any request: an idle pod deletes expired samples too.
        assertThat(Files.readString(log)).contains("capture on into " + dir);
      }

      // 40 requests of 2 rows, both pods at once: 80 rows offered, 25 may be kept this hour.
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        answers.add(post(ports.get(i % 2), twoRows(i)));
      }
      for (var answer : answers) {
        assertThat(answer.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      // A request the model refuses is not the model's input: never captured.
      assertThat(post(ports.get(0), "{\"inputs\": []}").get(60, TimeUnit.SECONDS).statusCode())
          .isEqualTo(400);

      List<String> samples = awaitSamples(dir, PER_HOUR, Duration.ofSeconds(30));
      assertThat(samples).hasSize(PER_HOUR);
      assertThat(filesOf(dir))
          .as("each pod writes its own file")
          .allMatch(f -> f.getFileName().toString().matches("minilm-[ab]\\.jsonl"));
      JsonNode ledger = json.readTree(dir.resolve("ledger.json").toFile());
      long counted = 0;
      for (JsonNode hour : ledger.at("/hours")) {
        counted += hour.asLong();
      }
      assertThat(counted).isEqualTo(PER_HOUR);

      // A sample is a request of one row that the model answers as the client's request.
      JsonNode sample = json.readTree(samples.get(0));
      assertThat(sample.at("/inputs/0/shape").toString()).isEqualTo("[1,5]");
      HttpResponse<String> replayed = post(ports.get(1), samples.get(0)).get(60, TimeUnit.SECONDS);
      assertThat(replayed.statusCode()).isEqualTo(200);
      assertThat(json.readTree(replayed.body()).at("/outputs/0/shape").toString())
          .isEqualTo("[1,5,384]");

      // Past the limit, the pods say so in their metrics.
      String metrics =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + ports.get(0) + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("capture_samples_total")
          .contains("capture_dropped_samples_total{reason=\"limit\"");
    } finally {
      for (Process server : servers) {
        server.destroy();
        server.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private CompletableFuture<HttpResponse<String>> post(int port, String body) {
    return http.sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/minilm/infer"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String twoRows(int i) {
    String ids =
        "[101, " + (2000 + i) + ", 2088, " + (3000 + i) + ", 102, 101, 7592, 2088, 2000, 102]";
    String ones = "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]";
    String zeros = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]";
    String tensor = "{\"name\": \"%s\", \"shape\": [2, 5], \"datatype\": \"INT64\", \"data\": %s}";
    return "{\"inputs\": ["
        + tensor.formatted("input_ids", ids)
        + ", "
        + tensor.formatted("attention_mask", ones)
        + ", "
        + tensor.formatted("token_type_ids", zeros)
        + "]}";
  }

  /** The captured lines, once there are {@code expected} (or the time is up). */
  private static List<String> awaitSamples(Path dir, int expected, Duration limit)
      throws Exception {
    Instant deadline = Instant.now().plus(limit);
    List<String> lines = new ArrayList<>();
    while (Instant.now().isBefore(deadline)) {
      lines.clear();
      for (Path f : filesOf(dir)) {
        lines.addAll(Files.readAllLines(f));
      }
      if (lines.size() >= expected) {
        Thread.sleep(1000); // and no more arrive
        break;
      }
      Thread.sleep(200);
    }
    lines.clear();
    for (Path f : filesOf(dir)) {
      lines.addAll(Files.readAllLines(f));
    }
    return lines;
  }

  private static List<Path> filesOf(Path dir) throws Exception {
    try (Stream<Path> paths = Files.walk(dir)) {
      return paths.filter(p -> p.toString().endsWith(".jsonl")).toList();
    }
  }
}
