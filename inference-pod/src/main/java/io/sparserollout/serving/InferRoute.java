package io.sparserollout.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.quarkus.runtime.configuration.MemorySize;
import io.sparserollout.serving.capture.Capture;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.InferRequests;
import io.sparserollout.serving.protocol.RequestLimits;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.stage.ServingMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code POST /v2/models/{name}[/versions/{v}]/infer} on a bare Vert.x route rather than a JAX-RS
 * resource: the body is parsed from its bytes on the I/O thread and the answer written straight
 * from the thread that has the outputs. Resuming a suspended JAX-RS request cost about 0.45 ms of
 * the batcher's time per request here, a sixth of the model run of one sentence.
 */
@Singleton
public class InferRoute {
  private static final Logger LOG = Logger.getLogger(InferRoute.class);
  private static final int INLINE_ENCODE_ELEMENTS = 1 << 16;
  private static final int INLINE_PARSE_BYTES = 64 << 10;
  private final ModelService model;
  private final Batcher batcher;
  private final Shadow shadow;
  private final Capture capture;
  private final ObjectMapper json;
  private final RequestMetrics metrics;
  private final long bodyLimit;
  private final long bodyReadMillis;
  private final RequestLimits limits;

  /** Bytes of request bodies being received, parsed or answered, server-wide, and their budget. */
  private final java.util.concurrent.atomic.AtomicLong receiving =
      new java.util.concurrent.atomic.AtomicLong();

  private final long bodyBudget;

  /**
   * Large responses are encoded here; when it is full the model's thread encodes (back-pressure).
   */
  private final ExecutorService encoders =
      bounded("encoder", new ThreadPoolExecutor.CallerRunsPolicy());

  /** Large bodies are parsed here, never on an event loop; when it is full the server says 429. */
  private final ExecutorService parsers = bounded("parser", new ThreadPoolExecutor.AbortPolicy());

  public InferRoute(
      ModelService model,
      Batcher batcher,
      Shadow shadow,
      Capture capture,
      ObjectMapper json,
      RequestMetrics metrics,
      @ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize bodyLimit,
      @ConfigProperty(name = "serving.body-read-timeout") java.time.Duration bodyReadTimeout,
      @ConfigProperty(name = "serving.max-batch-size") int maxRows,
      @ConfigProperty(name = "serving.max-dimension") long maxDimension,
      @ConfigProperty(name = "serving.min-batch-size") long minRows,
      @ConfigProperty(name = "serving.min-dimension") long minDimension,
      @ConfigProperty(name = "serving.max-inflight-body-bytes")
          java.util.Optional<MemorySize> bodyBudget) {
    this.model = model;
    // By default a sixteenth of the heap: a body's JSON tree takes about ten times its bytes.
    this.bodyBudget =
        bodyBudget
            .map(MemorySize::asLongValue)
            .orElse(Math.max(bodyLimit.asLongValue(), Runtime.getRuntime().maxMemory() / 16));
    this.bodyReadMillis = bodyReadTimeout.toMillis();
    // A JSON value takes at least a byte: no input of a body within the limit has more values.
    this.limits =
        new RequestLimits(maxRows, maxDimension, bodyLimit.asLongValue(), minRows, minDimension);
    this.batcher = batcher;
    this.shadow = shadow;
    this.capture = capture;
    this.json = json;
    this.metrics = metrics;
    this.bodyLimit = bodyLimit.asLongValue();
  }

  void install(@Observes Router router) {
    // After BodyLimit (which refuses announced oversized bodies), before the JAX-RS routes.
    router.route("/v2/models/:name/infer").order(Integer.MIN_VALUE + 1).handler(this::accept);
    router
        .route("/v2/models/:name/versions/:version/infer")
        .order(Integer.MIN_VALUE + 1)
        .handler(this::accept);
  }

  /** Reads the body, refusing it once it outgrows the limit (chunked bodies announce no size). */
  private void accept(RoutingContext ctx) {
    if (ctx.request().method() != HttpMethod.POST) {
      ctx.response().putHeader("Allow", "POST");
      error(ctx.response(), 405, "infer takes POST, not " + ctx.request().method());
      return;
    }
    Buffer body = Buffer.buffer();
    long[] held = {0};
    java.util.concurrent.atomic.AtomicBoolean released =
        new java.util.concurrent.atomic.AtomicBoolean();
    Runnable release =
        () -> {
          if (released.compareAndSet(false, true)) {
            receiving.addAndGet(-held[0]);
          }
        };
    // Runs once the response is ended or the connection is gone, whichever comes first.
    ctx.addEndHandler(done -> release.run());
    // A client trickling its body (or never finishing it) gets 408, not a connection held open.
    long arrived = System.nanoTime();
    long timer =
        bodyReadMillis <= 0
            ? -1
            : ctx.vertx()
                .setTimer(
                    bodyReadMillis,
                    id -> {
                      if (!ctx.response().ended() && !ctx.response().closed()) {
                        metrics.record(arrived, ServingMetrics.CLIENT_ERROR);
                        ctx.response().putHeader("Connection", "close");
                        error(ctx.response(), 408, "the request body did not arrive in time");
                        ctx.request().connection().close();
                      }
                    });
    ctx.addEndHandler(done -> ctx.vertx().cancelTimer(timer));
    ctx.request()
        .handler(
            chunk -> {
              if (ctx.response().ended()) {
                return;
              }
              if (body.length() + (long) chunk.length() > bodyLimit) {
                ctx.response().putHeader("Connection", "close");
                error(ctx.response(), 413, "request body exceeds the limit of " + bodyLimit);
                ctx.request().connection().close();
              } else if (receiving.addAndGet(chunk.length()) > bodyBudget) {
                // Many large bodies at once: the server's memory for them is spent.
                receiving.addAndGet(-chunk.length());
                ctx.response().putHeader("Connection", "close");
                fail(
                    ctx.response(),
                    new Batcher.QueueFull("the server is receiving too many large requests"),
                    System.nanoTime());
                ctx.request().connection().close();
              } else {
                held[0] += chunk.length();
                body.appendBuffer(chunk);
              }
            })
        .endHandler(
            done -> {
              ctx.vertx().cancelTimer(timer);
              if (ctx.response().ended()) {
                return;
              }
              if (body.length() <= INLINE_PARSE_BYTES) {
                infer(ctx, body.getBytes());
                return;
              }
              // Parsing megabytes of JSON on the event loop would stall every connection on it,
              // probes included.
              try {
                parsers.execute(() -> infer(ctx, body.getBytes()));
              } catch (java.util.concurrent.RejectedExecutionException full) {
                fail(
                    ctx.response(),
                    new Batcher.QueueFull("the server is parsing too many large requests"),
                    System.nanoTime());
              }
            })
        .exceptionHandler(e -> LOG.debugf("reading an infer request failed: %s", e));
    ctx.request().resume();
  }

  private void infer(RoutingContext ctx, byte[] body) {
    long start = System.nanoTime();
    JsonNode request;
    List<Tensor> inputs;
    try {
      String version = ctx.pathParam("version");
      model.require(ctx.pathParam("name"), version == null ? V2Resource.VERSION : version);
      try {
        request = json.readTree(body);
      } catch (JsonProcessingException e) {
        throw new BadRequest("malformed JSON: " + e.getOriginalMessage());
      } catch (java.io.IOException e) {
        throw new BadRequest("unreadable body: " + e.getMessage());
      }
      if (request == null || request.isMissingNode()) {
        throw new BadRequest("malformed JSON: the body is empty");
      }
      inputs = InferRequests.parse(request, model.backend().inputs(), limits);
      // Only the envelope is kept while the model runs: the tree of the inputs is heap ten times
      // the body's size, and the tensors now hold the data.
      Exchange exchange = new Exchange(ctx, envelope(request), body, inputs, start);
      Map<String, Tensor> outputs = batcher.runAtOnceIfIdle(inputs);
      if (outputs != null) {
        respond(exchange, outputs, null);
      } else {
        batcher
            .submit(inputs)
            .whenComplete((batched, failure) -> respond(exchange, batched, failure));
      }
    } catch (RuntimeException e) {
      fail(ctx.response(), e, start);
    }
  }

  /** An infer request being answered: its route, envelope, raw body, inputs and arrival time. */
  private record Exchange(
      RoutingContext ctx, JsonNode request, byte[] body, List<Tensor> inputs, long start) {}

  /** The request without its inputs: id, requested outputs, parameters. */
  private JsonNode envelope(JsonNode request) {
    com.fasterxml.jackson.databind.node.ObjectNode envelope = json.createObjectNode();
    for (String field : List.of("id", "outputs", "parameters")) {
      if (request.has(field)) {
        envelope.set(field, request.get(field));
      }
    }
    return envelope;
  }

  private void respond(Exchange exchange, Map<String, Tensor> outputs, Throwable failure) {
    if (failure == null && elements(outputs) > INLINE_ENCODE_ELEMENTS) {
      // Large responses are encoded off the model's thread: the model goes on.
      encoders.execute(() -> answer(exchange, outputs, null));
    } else {
      answer(exchange, outputs, failure);
    }
  }

  private void answer(Exchange exchange, Map<String, Tensor> outputs, Throwable failure) {
    RoutingContext ctx = exchange.ctx();
    JsonNode request = exchange.request();
    long start = exchange.start();
    try {
      if (failure != null) {
        throw failure instanceof CompletionException c ? c.getCause() : failure;
      }
      List<Tensor> selected = selected(request, outputs);
      shadow.mirror(request, exchange.body(), selected);
      boolean binary = request.path("parameters").path("binary_data_output").asBoolean(false);
      InferResponses.Encoded encoded =
          InferResponses.encode(
              json, model.name(), V2Resource.VERSION, request.get("id"), selected, binary);
      HttpServerResponse response = ctx.response().setStatusCode(200);
      if (binary) {
        // The binary tensor data extension (as Triton): JSON header, then the raw tensors.
        response
            .putHeader("Content-Type", "application/octet-stream")
            .putHeader("Inference-Header-Content-Length", Integer.toString(encoded.headerLength()));
      } else {
        response.putHeader("Content-Type", "application/json");
      }
      response.end(Buffer.buffer(Unpooled.wrappedBuffer(encoded.array(), 0, encoded.length())));
      metrics.record(start, ServingMetrics.SUCCESS);
    } catch (Throwable t) {
      fail(ctx.response(), t, start);
      return;
    }
    capture.offer(exchange.inputs());
  }

  /**
   * Answers a failed request. Its outcome says whose failure it was: a canary is judged only on
   * {@code server_error}, so a client sending bad requests cannot roll a model back.
   */
  private void fail(HttpServerResponse response, Throwable t, long start) {
    Failures failure = Failures.of(t);
    metrics.record(start, failure.outcome());
    if (failure.serverFault()) {
      LOG.error("inference failed", t);
    }
    if (failure.closeConnection()) {
      response.putHeader("Connection", "close");
    }
    error(response, failure.httpStatus(), Failures.message(t));
  }

  private void error(HttpServerResponse response, int status, String message) {
    if (response.ended()) {
      return;
    }
    byte[] body;
    try {
      body = json.writeValueAsBytes(Map.of("error", message));
    } catch (JsonProcessingException e) {
      body = "{\"error\":\"unprintable error\"}".getBytes(StandardCharsets.UTF_8);
    }
    response
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(Buffer.buffer(body));
  }

  private static ExecutorService bounded(String name, RejectedExecutionHandler whenFull) {
    int threads = Runtime.getRuntime().availableProcessors();
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(8),
        task -> {
          Thread thread = new Thread(task, name);
          thread.setDaemon(true);
          return thread;
        },
        whenFull);
  }

  private static long elements(Map<String, Tensor> outputs) {
    return outputs.values().stream().mapToLong(t -> Array.getLength(t.data())).sum();
  }

  /** The outputs the request names, or all of them. */
  private static List<Tensor> selected(JsonNode request, Map<String, Tensor> outputs) {
    if (!request.path("outputs").isArray() || request.path("outputs").isEmpty()) {
      return List.copyOf(outputs.values());
    }
    List<Tensor> chosen = new ArrayList<>();
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
}
