package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged server serving the real all-MiniLM-L6-v2 over OIP v2 gRPC to Node's
 * {@code @grpc/grpc-js} with {@code @grpc/proto-loader} (from npm; they read the .proto at run
 * time), compared with in-process ONNX Runtime.
 */
class GrpcNodeClientIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path PROTO = Path.of("src/main/proto/open_inference_v2.proto");
  // "hello world" and "sparse models run fast" in the BERT uncased vocabulary, [CLS] ... [SEP],
  // the first padded to the second's length.
  private static final long[][] IDS = {
    {101, 7592, 2088, 102, 0, 0}, {101, 20288, 4275, 2448, 3435, 102}
  };
  private static final long[][] MASK = {{1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1}};
  private static Path work;
  private static Path client;
  private static Process server;
  private static int port;
  private static int grpcPort;

  @BeforeAll
  static void start() throws Exception {
    work = Files.createDirectories(Path.of(System.getProperty("work.dir")));
    client = installClient(work.resolve("node-client"));
    port = MiniLmCurlIT.freePort();
    grpcPort = MiniLmCurlIT.freePort();
    server =
        MiniLmCurlIT.start(
            work.resolve("grpc-server.log"),
            Map.ofEntries(
                Map.entry("MODEL_NAME", "minilm"),
                Map.entry("MODEL_PATH", MiniLmCurlIT.minilm().toString()),
                Map.entry("PORT", Integer.toString(port)),
                Map.entry("MANAGEMENT_PORT", Integer.toString(MiniLmCurlIT.freePort())),
                Map.entry("GRPC_PORT", Integer.toString(grpcPort)),
                // Small limits, to be reached by the tests: 1 MiB messages, 4 calls at once, 3 s
                // to send a message, 2 queued requests.
                Map.entry("GRPC_MAX_MESSAGE_SIZE", "1M"),
                Map.entry("GRPC_MAX_CONCURRENT_CALLS", "4"),
                Map.entry("BODY_READ_TIMEOUT", "3s"),
                Map.entry("MAX_QUEUE", "2"),
                Map.entry("INLINE_MAX_RUN", "0")));
    MiniLmCurlIT.awaitReady(server, port, work.resolve("grpc-server.log"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void nodeGetsTheSameEmbeddingsAsInProcessOnnxRuntimeWithRawAndTypedContents() throws Exception {
    JsonNode results =
        calls(
            false,
            call("ServerLive", JSON.createObjectNode()),
            call("ServerReady", JSON.createObjectNode()),
            call("ModelReady", JSON.createObjectNode().put("name", "minilm")),
            call("ServerMetadata", JSON.createObjectNode()),
            call("ModelMetadata", JSON.createObjectNode().put("name", "minilm")),
            call("ModelInfer", infer(true)),
            call("ModelInfer", infer(false)));

    assertThat(results.get(0).path("response").path("live").asBoolean()).isTrue();
    assertThat(results.get(1).path("response").path("ready").asBoolean()).isTrue();
    assertThat(results.get(2).path("response").path("ready").asBoolean()).isTrue();
    assertThat(results.get(3).path("response").path("name").asText())
        .isEqualTo("sparserollout-inference-pod");
    JsonNode metadata = results.get(4).path("response");
    assertThat(metadata.path("platform").asText()).isEqualTo("onnxruntime_onnx");
    assertThat(metadata.path("inputs").findValuesAsText("name"))
        .containsExactly("input_ids", "attention_mask", "token_type_ids");
    assertThat(metadata.path("inputs").get(0).path("shape").toString())
        .isEqualTo("[\"-1\",\"-1\"]");

    float[] expected = reference();
    JsonNode raw = results.get(5);
    assertThat(raw.path("code").asInt()).as(raw.toString()).isZero();
    assertThat(raw.path("response").path("id").asText()).isEqualTo("raw-1");
    assertThat(raw.path("response").path("outputs").get(0).path("shape").toString())
        .isEqualTo("[\"2\",\"6\",\"384\"]");
    ByteBuffer bytes =
        ByteBuffer.wrap(
                Base64.getDecoder()
                    .decode(raw.path("response").path("raw_output_contents").get(0).asText()))
            .order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bytes.remaining()).isEqualTo(expected.length * 4);
    for (float e : expected) {
      assertThat(bytes.getFloat()).isCloseTo(e, Offset.offset(1e-4f));
    }

    JsonNode typed = results.get(6);
    assertThat(typed.path("code").asInt()).as(typed.toString()).isZero();
    assertThat(typed.path("response").path("raw_output_contents")).isEmpty();
    JsonNode values = typed.path("response").path("outputs").get(0).path("contents");
    assertThat(values.path("fp32_contents").size()).isEqualTo(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(values.path("fp32_contents").get(i).floatValue())
          .isCloseTo(expected[i], Offset.offset(1e-4f));
    }
  }

  @Test
  void failuresArriveAsTheStatusCodesClientsExpect() throws Exception {
    ObjectNode wrongRank = infer(false);
    ((ObjectNode) wrongRank.path("inputs").get(0)).putArray("shape").add("12");
    ObjectNode unknownModel = infer(true).put("model_name", "bert");
    ObjectNode shortRaw = infer(true);
    ((ArrayNode) shortRaw.get("raw_input_contents"))
        .set(0, Base64.getEncoder().encodeToString(new byte[7]));
    ObjectNode fp16Typed = infer(false);
    ((ObjectNode) fp16Typed.path("inputs").get(0)).put("datatype", "FP16");
    ObjectNode unknownOutput = infer(true);
    ((ObjectNode) unknownOutput.path("outputs").get(0)).put("name", "logits");
    // 2 MiB of raw input: over the 1 MiB message limit the server was started with.
    ObjectNode oversized = infer(true);
    ((ArrayNode) oversized.get("raw_input_contents"))
        .set(0, Base64.getEncoder().encodeToString(new byte[2 << 20]));

    JsonNode results =
        calls(
            false,
            call("ModelInfer", wrongRank),
            call("ModelInfer", unknownModel),
            call("ModelInfer", shortRaw),
            call("ModelInfer", fp16Typed),
            call("ModelInfer", unknownOutput),
            call("ModelInfer", oversized),
            call("ModelMetadata", JSON.createObjectNode().put("name", "bert")));

    assertThat(code(results.get(0), 3)).contains("rank 1; the model expects rank 2");
    assertThat(code(results.get(1), 5)).contains("unknown model bert");
    assertThat(code(results.get(2), 3)).contains("input_ids has 7 raw bytes; 12 INT64 elements");
    assertThat(code(results.get(3), 3)).contains("the model expects INT64");
    assertThat(code(results.get(4), 3)).contains("unknown output logits");
    assertThat(code(results.get(5), 8)).isNotEmpty(); // RESOURCE_EXHAUSTED, from grpc-java
    assertThat(code(results.get(6), 5)).contains("unknown model bert");
    // Every infer refused above is the client's error, none the model's: a canary is not judged on
    // them (the oversized message never reaches the service).
    String metrics = MiniLmCurlIT.curl("-s", rest("/metrics"));
    assertThat(metrics)
        .contains("inference_requests_total{model=\"minilm\",outcome=\"client_error\"} ");
    assertThat(metrics)
        .contains("inference_requests_total{model=\"minilm\",outcome=\"server_error\"} 0.0");
  }

  @Test
  void aFullQueueAnswersResourceExhaustedAndTheRestAreServed() throws Exception {
    // 40 batch-of-2 requests at once into a queue of 2 and 4 places for calls.
    ObjectNode[] many = new ObjectNode[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = call("ModelInfer", infer(true));
    }

    JsonNode results = calls(true, many);

    int served = 0;
    int refused = 0;
    for (JsonNode result : results) {
      if (result.path("code").asInt() == 0) {
        served++;
      } else {
        // The batcher's queue (2) or the call cap (4), whichever a call meets first.
        assertThat(code(result, 8)).containsAnyOf("at capacity", "calls in flight");
        refused++;
      }
    }
    assertThat(served).isPositive();
    assertThat(refused).isPositive();
  }

  /**
   * Clients stuck mid-request (a message never finished) hold the call cap's places only until the
   * read timeout: meanwhile a new call is refused at once, afterwards it is served.
   */
  @Test
  void stalledCallsAreEndedAtTheReadTimeoutAndFreeTheirPlaces() throws Exception {
    ObjectNode[] plan = new ObjectNode[8];
    for (int i = 0; i < 4; i++) {
      plan[i] = call("ModelInfer", infer(true)).put("stall", true);
    }
    plan[4] = call("ModelInfer", infer(true)).put("delayMs", 1000);
    plan[5] = call("ServerLive", JSON.createObjectNode()).put("delayMs", 1000);
    plan[6] = call("ModelInfer", infer(true)).put("delayMs", 5000);
    // Outside the cap, but a stalled health call is ended all the same: its message holds memory.
    plan[7] = call("ServerLive", JSON.createObjectNode()).put("stall", true);

    JsonNode results = calls(true, plan);

    for (int i = 0; i < 4; i++) {
      assertThat(code(results.get(i), 4)).contains("did not arrive within PT3S");
    }
    assertThat(code(results.get(4), 8)).contains("4 calls in flight");
    // Health is never refused; once the stalled calls are ended, inference is served again.
    assertThat(results.get(5).path("response").path("live").asBoolean()).isTrue();
    assertThat(code(results.get(6), 0)).isEmpty();
    assertThat(code(results.get(7), 4)).contains("did not arrive within PT3S");
  }

  /** The error's details, once its code is the one expected. */
  private static String code(JsonNode result, int expected) {
    assertThat(result.path("code").asInt()).as(result.toString()).isEqualTo(expected);
    return result.path("details").asText();
  }

  /** The two sentences as a ModelInfer request, with raw or typed contents. */
  private static ObjectNode infer(boolean raw) {
    ObjectNode request = JSON.createObjectNode().put("model_name", "minilm");
    request.put("id", raw ? "raw-1" : "typed-1");
    ArrayNode inputs = request.putArray("inputs");
    ArrayNode rawContents = raw ? request.putArray("raw_input_contents") : null;
    request.putArray("outputs").addObject().put("name", "last_hidden_state");
    for (String name : List.of("input_ids", "attention_mask", "token_type_ids")) {
      long[] flat = flat(name);
      ObjectNode input = inputs.addObject().put("name", name).put("datatype", "INT64");
      input.putArray("shape").add("2").add("6");
      if (raw) {
        ByteBuffer le = ByteBuffer.allocate(flat.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        le.asLongBuffer().put(flat);
        rawContents.add(Base64.getEncoder().encodeToString(le.array()));
      } else {
        ArrayNode values = input.putObject("contents").putArray("int64_contents");
        for (long v : flat) {
          values.add(Long.toString(v));
        }
      }
    }
    return request;
  }

  private static long[] flat(String name) {
    long[][] rows = name.equals("input_ids") ? IDS : name.equals("attention_mask") ? MASK : null;
    long[] out = new long[12];
    for (int r = 0; rows != null && r < 2; r++) {
      System.arraycopy(rows[r], 0, out, r * 6, 6);
    }
    return out;
  }

  private static ObjectNode call(String method, ObjectNode request) {
    ObjectNode call = JSON.createObjectNode().put("method", method);
    call.set("request", request);
    return call;
  }

  private static JsonNode calls(boolean concurrent, ObjectNode... calls) throws Exception {
    ObjectNode plan = JSON.createObjectNode().put("concurrent", concurrent);
    ArrayNode list = plan.putArray("calls");
    for (ObjectNode c : calls) {
      list.add(c);
    }
    Path file = Files.createTempFile(work, "calls", ".json");
    JSON.writeValue(file.toFile(), plan);
    Process node =
        new ProcessBuilder(
                "node",
                client.resolve("oip-client.js").toString(),
                PROTO.toAbsolutePath().toString(),
                "127.0.0.1:" + grpcPort,
                file.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(node.exitValue()).as(out).isZero();
    return JSON.readTree(out);
  }

  private static Path installClient(Path dir) throws Exception {
    Process install =
        new ProcessBuilder("../scripts/grpc-node-client.sh", dir.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(install.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(install.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(install.exitValue()).as("scripts/grpc-node-client.sh: " + out).isZero();
    return dir;
  }

  private static float[] reference() throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session =
        env.createSession(MiniLmCurlIT.minilm().toString(), new OrtSession.SessionOptions())) {
      long[] shape = {2, 6};
      try (OnnxTensor ids =
              OnnxTensor.createTensor(env, LongBuffer.wrap(flat("input_ids")), shape);
          OnnxTensor mask =
              OnnxTensor.createTensor(env, LongBuffer.wrap(flat("attention_mask")), shape);
          OnnxTensor types =
              OnnxTensor.createTensor(env, LongBuffer.wrap(flat("token_type_ids")), shape);
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

  private static String rest(String path) {
    return "http://127.0.0.1:" + port + path;
  }
}
