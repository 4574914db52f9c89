package io.sparserollout.serving;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.sparserollout.stage.ServingMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The v2 REST API over ONNX Runtime, on a small model built in code. */
@QuarkusTest
@QuarkusTestResource(TinyModelResource.class)
class V2ApiTest {
  private static final String GOOD =
      """
      {"id": "r1", "inputs": [
        {"name": "input_ids", "datatype": "INT64", "shape": [2, 2], "data": [[1, 2], [3, 15]]},
        {"name": "scale", "datatype": "FP32", "shape": [1], "data": [2.0]}]}
      """;

  @Test
  void serverAndHealthEndpointsAnswer() {
    given().get("/v2").then().statusCode(200).body("name", equalTo("sparserollout-inference-pod"));
    given().get("/v2/health/live").then().statusCode(200);
    given().get("/v2/health/ready").then().statusCode(200);
    given().get("/v2/models/tiny/ready").then().statusCode(200);
  }

  @jakarta.inject.Inject ManagementServer management;

  @Test
  void probesAnswerOnTheManagementPortAndNothingElseDoes() {
    String base = "http://127.0.0.1:" + management.port();
    given().get(base + "/health/live").then().statusCode(200).body("live", equalTo(true));
    given().get(base + "/health/ready").then().statusCode(200).body("ready", equalTo(true));
    given().get(base + "/v2/models/tiny").then().statusCode(404);
    given().post(base + "/health/ready").then().statusCode(405);
  }

  @Test
  void metadataDescribesTheModelsTensors() {
    given()
        .get("/v2/models/tiny")
        .then()
        .statusCode(200)
        .body("platform", equalTo("onnxruntime_onnx"))
        .body("versions", hasItems("1"))
        .body("inputs.name", hasItems("input_ids", "scale"))
        .body("inputs.find { it.name == 'input_ids' }.datatype", equalTo("INT64"))
        .body("inputs.find { it.name == 'input_ids' }.shape", equalTo(List.of(-1, -1)))
        .body("outputs[0].shape", equalTo(List.of(-1, -1, 4)));
    given().get("/v2/models/tiny/versions/1").then().statusCode(200);
  }

  @Test
  void inferReturnsTheModelsOutput() {
    List<Float> data =
        given()
            .contentType(ContentType.JSON)
            .body(GOOD)
            .post("/v2/models/tiny/infer")
            .then()
            .statusCode(200)
            .body("model_name", equalTo("tiny"))
            .body("id", equalTo("r1"))
            .body("outputs[0].name", equalTo("embeddings"))
            .body("outputs[0].datatype", equalTo("FP32"))
            .body("outputs[0].shape", equalTo(List.of(2, 2, 4)))
            .extract()
            .path("outputs[0].data");

    assertThat(data).hasSize(16);
    assertThat(data.get(4)).isEqualTo(2 * TinyModelResource.value(2, 0)); // row of token 2
    assertThat(data.get(15)).isEqualTo(2 * TinyModelResource.value(15, 3));
  }

  @Test
  void theBinaryDataExtensionReturnsRawLittleEndianTensors() throws Exception {
    String binary =
        GOOD.replace(
            "{\"id\": \"r1\",", "{\"id\": \"r1\", \"parameters\": {\"binary_data_output\": true},");
    var response = given().contentType(ContentType.JSON).body(binary).post("/v2/models/tiny/infer");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.contentType()).startsWith("application/octet-stream");
    int headerLength = Integer.parseInt(response.header("Inference-Header-Content-Length"));
    byte[] body = response.asByteArray();
    var header =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(java.util.Arrays.copyOf(body, headerLength));
    assertThat(header.path("outputs").get(0).path("parameters").path("binary_data_size").asInt())
        .isEqualTo(16 * 4);
    var floats =
        java.nio.ByteBuffer.wrap(body, headerLength, 64)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer();
    assertThat(floats.get(4)).isEqualTo(2 * TinyModelResource.value(2, 0));
    assertThat(floats.get(15)).isEqualTo(2 * TinyModelResource.value(15, 3));
  }

  @Test
  void badRequestsGetA4xxWithAMessageAndTheServerKeepsServing() {
    expect400(
        GOOD.replace("[2, 2], \"data\": [[1, 2], [3, 15]]", "[4], \"data\": [1, 2, 3, 15]"),
        "rank 1");
    expect400(GOOD.replace("\"INT64\"", "\"FP32\""), "the model expects INT64");
    expect400(GOOD.replace("[[1, 2], [3, 15]]", "[[1, 2], [3]]"), "has 3 values");
    expect400(
        GOOD.replace("\"shape\": [1], \"data\": [2.0]", "\"shape\": [2], \"data\": [2.0, 3.0]"),
        "fixes it at 1");
    expect400(GOOD.replace("\"input_ids\"", "\"tokens\""), "unknown input tokens");
    expect400(GOOD.replace("\"INT64\"", "\"BF16\""), "unsupported datatype BF16");
    expect400(GOOD.replace("15]]", "99]]"), "the model rejected the request");
    expect400("{\"inputs\": [", "malformed JSON");
    expect400("{}", "\"inputs\" array");
    expect400("", "the body is empty");
    expect400(
        GOOD.replace("\"inputs\"", "\"outputs\": [{\"name\": \"nope\"}], \"inputs\""),
        "unknown output nope");
    given().get("/v2/models/tiny/infer").then().statusCode(405).header("Allow", "POST");
    given()
        .contentType(ContentType.JSON)
        .body(GOOD)
        .post("/v2/models/tiny/versions/2/infer")
        .then()
        .statusCode(404)
        .body("error", containsString("version 2"));
    given()
        .contentType(ContentType.JSON)
        .body(GOOD)
        .post("/v2/models/tiny/versions/1/infer")
        .then()
        .statusCode(200);

    given()
        .contentType(ContentType.JSON)
        .body(GOOD)
        .post("/v2/models/other/infer")
        .then()
        .statusCode(404)
        .body("error", containsString("unknown model other"));
    given().get("/v2/health/ready").then().statusCode(200);
  }

  @Test
  void anOversizedBodyIsRefusedBeforeItIsRead() throws Exception {
    // A 100 MB body, announced by its Content-Length: the server answers before reading it.
    String response =
        rawPost(
            "Content-Type: application/json\r\nContent-Length: " + (100 * 1024 * 1024),
            out -> out.write("{\"inputs\": [".getBytes(StandardCharsets.US_ASCII)));
    assertThat(response).startsWith("HTTP/1.1 413").contains("exceeds the limit");
    assertServes(GOOD);
  }

  @Test
  void aChunkedBodyIsRefusedOnceItOutgrowsTheLimit() throws Exception {
    // No Content-Length to refuse it by: the server stops reading at the limit (16 MiB).
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) ' ');
    String response =
        rawPost(
            "Transfer-Encoding: chunked",
            out -> {
              for (int i = 0; i < 20; i++) {
                out.write("100000\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
              }
            });
    assertThat(response).startsWith("HTTP/1.1 413").contains("exceeds the limit");
    assertServes(GOOD);
  }

  private static void assertServes(String body) {
    given()
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v2/models/tiny/infer")
        .then()
        .statusCode(200);
  }

  private interface BodyWriter {
    void write(java.io.OutputStream out) throws java.io.IOException;
  }

  /** An infer POST over a bare socket (headers as given); the start of the server's answer. */
  private static String rawPost(String headers, BodyWriter body) throws Exception {
    try (java.net.Socket socket =
        new java.net.Socket("127.0.0.1", io.restassured.RestAssured.port)) {
      socket.setSoTimeout(10_000);
      var out = socket.getOutputStream();
      out.write(
          ("POST /v2/models/tiny/infer HTTP/1.1\r\nHost: localhost\r\n" + headers + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      try {
        body.write(out);
        out.flush();
      } catch (java.io.IOException closedByTheServer) {
        // expected when the server answers and closes before the body is all sent
      }
      return new String(socket.getInputStream().readNBytes(512), StandardCharsets.US_ASCII);
    }
  }

  @Test
  void requestsAreCountedInPrometheusMetrics() {
    assertServes(GOOD);

    given()
        .get("/metrics")
        .then()
        .statusCode(200)
        .body(
            containsString(
                ServingMetrics.REQUESTS_TOTAL
                    + "{model=\"tiny\",outcome=\""
                    + ServingMetrics.SUCCESS
                    + "\"}"))
        .body(containsString(ServingMetrics.REQUEST_DURATION_BUCKET))
        .body(containsString("model_load_seconds{model=\"tiny\"}"))
        .body(containsString("inference_batch_size_count{model=\"tiny\"}"))
        .body(containsString("inference_queue_depth{model=\"tiny\"}"))
        // Nothing in flight once every request has its answer.
        .body(containsString(ServingMetrics.IN_FLIGHT + "{model=\"tiny\"} 0.0"));
  }

  @Test
  void mirroredRequestsReportTheirAgreementWithTheBaseline() {
    assertServes(GOOD);

    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                given()
                    .get("/metrics")
                    .then()
                    .body(containsString("shadow_requests_total{outcome=\"compared\"}")));
    String metrics = given().get("/metrics").asString();
    assertThat(metric(metrics, ServingMetrics.SHADOW_AGREEMENT_SUM))
        .isEqualTo(metric(metrics, ServingMetrics.SHADOW_AGREEMENT_COUNT));
    // Agreement 1 each time: no disagreement to square (the analysis's variance).
    assertThat(metrics).contains(ServingMetrics.SHADOW_DISAGREEMENT_SQUARES_TOTAL + "{");
    assertThat(metric(metrics, ServingMetrics.SHADOW_DISAGREEMENT_SQUARES_TOTAL)).isZero();
  }

  @Test
  void everyInferenceMetricTheShippedAlertsAndDashboardUseIsExported() throws Exception {
    assertServes(GOOD);
    String rules =
        java.nio.file.Files.readString(
                java.nio.file.Path.of("../manifests/monitoring/alerts.rules.yaml"))
            + java.nio.file.Files.readString(
                java.nio.file.Path.of("../manifests/monitoring/grafana-dashboard.json"));
    java.util.Set<String> used = new java.util.TreeSet<>();
    var names = java.util.regex.Pattern.compile("\\b(?:inference|shadow)_[a-z_]+").matcher(rules);
    while (names.find()) {
      used.add(names.group());
    }
    assertThat(used)
        .contains("inference_requests_total", "shadow_agreement_sum", "inference_batch_size_sum");

    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              String metrics = given().get("/metrics").asString();
              for (String name : used) {
                assertThat(metrics).as(name).containsPattern("(?m)^" + name + "[{ ]");
              }
            });
  }

  @Test
  void aRequestForBinaryOutputsIsMirroredAsJson() {
    double compared = metric(given().get("/metrics").asString(), "shadow_requests_total");
    given()
        .contentType(ContentType.JSON)
        .body(GOOD.replace("{\"id\": \"r1\",", "{\"parameters\": {\"binary_data_output\": true},"))
        .post("/v2/models/tiny/infer")
        .then()
        .statusCode(200);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(
            () -> metric(given().get("/metrics").asString(), "shadow_requests_total") > compared);
    assertThat(given().get("/metrics").asString()).doesNotContain("outcome=\"failed\"");
  }

  @Test
  void aClientsBadRequestsAreItsOwnOutcomeNotTheServersFailures() {
    String before = given().get("/metrics").asString();
    for (int i = 0; i < 20; i++) {
      expect400("{\"inputs\": [", "malformed JSON");
    }
    given()
        .contentType(ContentType.JSON)
        .body(GOOD)
        .post("/v2/models/nope/infer")
        .then()
        .statusCode(404);
    String after = given().get("/metrics").asString();

    // The operator's canary analysis counts only server_error against maxErrorRate.
    assertThat(outcome(after, "client_error") - outcome(before, "client_error")).isEqualTo(21.0);
    assertThat(outcome(after, "server_error")).isZero();
    assertThat(after).doesNotContain("outcome=\"error\"");
  }

  private static double outcome(String metrics, String outcome) {
    return metrics
        .lines()
        .filter(l -> l.startsWith(ServingMetrics.REQUESTS_TOTAL + "{"))
        .filter(l -> l.contains("outcome=\"" + outcome + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static double metric(String metrics, String name) {
    return metrics
        .lines()
        .filter(l -> l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static void expect400(String body, String message) {
    given()
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v2/models/tiny/infer")
        .then()
        .statusCode(400)
        .body("error", containsString(message));
  }
}
