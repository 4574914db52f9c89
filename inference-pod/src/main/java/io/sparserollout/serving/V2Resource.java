package io.sparserollout.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.InferRequests;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Array;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** The Open Inference Protocol v2 REST API, as KServe and Triton speak it. */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class V2Resource {
  static final String VERSION = "1";
  private final ModelService model;
  private final Batcher batcher;
  private final Shadow shadow;
  private final ObjectMapper json;
  private final MeterRegistry registry;
  private final Timer latency;
  private static final int INLINE_ENCODE_ELEMENTS = 1 << 16;
  private final ExecutorService encoders =
      Executors.newFixedThreadPool(
          Runtime.getRuntime().availableProcessors(),
          task -> {
            Thread thread = new Thread(task, "encoder");
            thread.setDaemon(true);
            return thread;
          });

  public V2Resource(
      ModelService model,
      Batcher batcher,
      Shadow shadow,
      ObjectMapper json,
      MeterRegistry registry) {
    this.model = model;
    this.batcher = batcher;
    this.shadow = shadow;
    this.json = json;
    this.registry = registry;
    this.latency =
        Timer.builder("inference_request_duration")
            .description("Inference request latency, parsing to response")
            .tag("model", model.name())
            .publishPercentileHistogram()
            .register(registry);
  }

  @GET
  public Map<String, Object> server() {
    return Map.of(
        "name", "sparserollout-inference-pod", "version", "0.1.0", "extensions", List.of());
  }

  @GET
  @Path("/health/live")
  public Map<String, Object> live() {
    return Map.of("live", true);
  }

  @GET
  @Path("/health/ready")
  public Map<String, Object> ready() {
    return Map.of("ready", true); // the model loads before the server listens
  }

  @GET
  @Path("/models/{name}")
  public ObjectNode metadata(@PathParam("name") String name) {
    requireModel(name, VERSION);
    ObjectNode out = json.createObjectNode();
    out.put("name", model.name());
    out.putArray("versions").add(VERSION);
    out.put("platform", model.backend().platform());
    out.set("inputs", specs(model.backend().inputs()));
    out.set("outputs", specs(model.backend().outputs()));
    return out;
  }

  @GET
  @Path("/models/{name}/versions/{version}")
  public ObjectNode versionMetadata(
      @PathParam("name") String name, @PathParam("version") String version) {
    requireModel(name, version);
    return metadata(name);
  }

  @GET
  @Path("/models/{name}/ready")
  public Map<String, Object> modelReady(@PathParam("name") String name) {
    requireModel(name, VERSION);
    return Map.of("name", name, "ready", true);
  }

  @GET
  @Path("/models/{name}/versions/{version}/ready")
  public Map<String, Object> versionReady(
      @PathParam("name") String name, @PathParam("version") String version) {
    requireModel(name, version);
    return Map.of("name", name, "ready", true);
  }

  @POST
  @Path("/models/{name}/infer")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> infer(@PathParam("name") String name, String body) {
    return inferVersion(name, VERSION, body);
  }

  /**
   * Parsed on the I/O thread, run by the batcher, and answered from the batcher's thread: two
   * thread hand-offs per request instead of four (on a VM each wake-up costs tens of microseconds
   * or more).
   */
  @POST
  @Path("/models/{name}/versions/{version}/infer")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> inferVersion(
      @PathParam("name") String name, @PathParam("version") String version, String body) {
    long start = System.nanoTime();
    JsonNode request;
    List<Tensor> inputs;
    try {
      requireModel(name, version);
      try {
        request = json.readTree(body == null ? "" : body);
      } catch (JsonProcessingException e) {
        throw new BadRequest("malformed JSON: " + e.getOriginalMessage());
      }
      inputs = InferRequests.parse(request, model.backend().inputs());
    } catch (RuntimeException e) {
      record(start, false);
      throw e;
    }
    CompletableFuture<Response> response = new CompletableFuture<>();
    batcher
        .submit(inputs)
        .whenComplete(
            (outputs, error) -> {
              if (error == null && elements(outputs) > INLINE_ENCODE_ELEMENTS) {
                encoders.execute(() -> answer(response, request, body, outputs, null, start));
              } else {
                answer(response, request, body, outputs, error, start);
              }
            });
    return response;
  }

  /**
   * Small responses are encoded on the batcher's thread (no hand-off); large ones on an encoder
   * thread, so that the model starts the next batch at once.
   */
  private void answer(
      CompletableFuture<Response> response,
      JsonNode request,
      String body,
      Map<String, Tensor> outputs,
      Throwable error,
      long start) {
    try {
      if (error != null) {
        throw error instanceof CompletionException c ? c.getCause() : error;
      }
      response.complete(respond(request, body, outputs));
    } catch (Throwable t) {
      response.completeExceptionally(t);
    }
    record(start, !response.isCompletedExceptionally());
  }

  private static long elements(Map<String, Tensor> outputs) {
    return outputs.values().stream().mapToLong(t -> Array.getLength(t.data())).sum();
  }

  private Response respond(JsonNode request, String body, Map<String, Tensor> outputs) {
    shadow.mirror(body, List.copyOf(outputs.values()));
    boolean binary = request.path("parameters").path("binary_data_output").asBoolean(false);
    InferResponses.Encoded encoded =
        InferResponses.encode(
            json, model.name(), VERSION, request.get("id"), selected(request, outputs), binary);
    if (!encoded.binary()) {
      return Response.ok(encoded.body(), MediaType.APPLICATION_JSON).build();
    }
    // The binary tensor data extension (as Triton): JSON header, then the raw tensors.
    return Response.ok(encoded.body(), MediaType.APPLICATION_OCTET_STREAM)
        .header("Inference-Header-Content-Length", encoded.headerLength())
        .build();
  }

  private void record(long start, boolean success) {
    registry
        .counter(
            "inference_requests", "model", model.name(), "outcome", success ? "success" : "error")
        .increment();
    latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
  }

  /** The outputs the request names, or all of them. */
  private static List<Tensor> selected(JsonNode request, Map<String, Tensor> outputs) {
    if (!request.path("outputs").isArray() || request.path("outputs").isEmpty()) {
      return List.copyOf(outputs.values());
    }
    List<Tensor> chosen = new java.util.ArrayList<>();
    for (JsonNode wanted : request.get("outputs")) {
      Tensor t = outputs.get(wanted.path("name").asText());
      if (t == null) {
        throw new BadRequest(
            "unknown output "
                + wanted.path("name").asText()
                + "; the model gives "
                + outputs.keySet());
      }
      chosen.add(t);
    }
    return chosen;
  }

  private ArrayNode specs(List<TensorSpec> specs) {
    ArrayNode array = json.createArrayNode();
    for (TensorSpec spec : specs) {
      ObjectNode node = array.addObject();
      node.put("name", spec.name());
      node.put("datatype", spec.datatype().name());
      ArrayNode shape = node.putArray("shape");
      for (long d : spec.shape()) {
        shape.add(d);
      }
    }
    return array;
  }

  private void requireModel(String name, String version) {
    if (!model.name().equals(name) || !VERSION.equals(version)) {
      throw new UnknownModel(
          "unknown model "
              + name
              + " version "
              + version
              + "; this server serves "
              + model.name()
              + " version "
              + VERSION);
    }
  }
}
