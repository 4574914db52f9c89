package io.sparserollout.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Half;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.stage.ServingMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import java.lang.reflect.Array;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Shadow comparison for canaries: a sampled fraction of requests is sent again, asynchronously, to
 * the dense baseline's infer endpoint, and the agreement of the two answers is exported. The
 * client's request never waits on the shadow, and at most a few shadows are in flight: excess
 * samples are dropped, not queued.
 */
@ApplicationScoped
public class Shadow {
  private static final Logger LOG = Logger.getLogger(Shadow.class);
  private static final int MAX_IN_FLIGHT = 4;
  private final Optional<URI> baseline;
  private final double fraction;
  private final boolean top1;
  private final ObjectMapper json;
  private final MeterRegistry registry;
  private final DistributionSummary agreement;
  private final io.micrometer.core.instrument.Counter disagreementSquares;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public Shadow(
      @ConfigProperty(name = "serving.shadow.baseline-url") Optional<String> baseline,
      @ConfigProperty(name = "serving.shadow.fraction") double fraction,
      @ConfigProperty(name = "serving.shadow.metric") String metric,
      ModelService model,
      ObjectMapper json,
      MeterRegistry registry) {
    this.baseline =
        baseline.filter(u -> !u.isBlank()).map(u -> URI.create(u.replaceAll("/+$", "") + "/infer"));
    this.fraction = fraction;
    this.top1 = "top1".equals(metric);
    this.json = json;
    this.registry = registry;
    this.agreement =
        DistributionSummary.builder(ServingMetrics.SHADOW_AGREEMENT)
            .description(
                "Agreement of this model's outputs with the baseline's on mirrored requests"
                    + " (mean cosine per row, or top-1 equality)")
            .tag(ServingMetrics.MODEL, model.name())
            .publishPercentiles(0.05, 0.5)
            .register(registry);
    this.disagreementSquares =
        io.micrometer.core.instrument.Counter.builder(ServingMetrics.SHADOW_DISAGREEMENT_SQUARES)
            .description(
                "Sum of the squared disagreements (1 - agreement): with the agreement's sum and"
                    + " count, its variance")
            .tag(ServingMetrics.MODEL, model.name())
            .register(registry);
  }

  /**
   * Maybe mirrors the request; returns at once. The baseline is always asked for JSON outputs, even
   * when this request wanted the binary extension, since the comparison reads them as JSON.
   */
  public void mirror(JsonNode request, byte[] body, List<Tensor> ours) {
    if (!sampled()) {
      return;
    }
    if (request.path("parameters").has("binary_data_output")) {
      try {
        // Parsed again only for the mirrored few: nobody keeps a request's whole tree.
        ObjectNode copy = (ObjectNode) json.readTree(body);
        ((ObjectNode) copy.get("parameters")).remove("binary_data_output");
        body = json.writeValueAsBytes(copy);
      } catch (java.io.IOException | RuntimeException e) {
        inFlight.release();
        count("failed");
        return;
      }
    }
    send(body, ours);
  }

  /**
   * Maybe mirrors a request that did not arrive as JSON (gRPC): its inputs are written as a JSON
   * request, asking for the outputs this server answered with.
   */
  public void mirror(List<Tensor> inputs, List<Tensor> ours) {
    if (!sampled()) {
      return;
    }
    byte[] body;
    try {
      ObjectNode request = json.createObjectNode();
      var array = request.putArray("inputs");
      for (Tensor input : inputs) {
        ObjectNode node = array.addObject();
        node.put("name", input.name()).put("datatype", input.datatype().name());
        var shape = node.putArray("shape");
        for (long d : input.shape()) {
          shape.add(d);
        }
        var data = node.putArray("data");
        for (int i = 0; i < Array.getLength(input.data()); i++) {
          switch (input.datatype()) {
            case BOOL -> data.add(((boolean[]) input.data())[i]);
            case BYTES -> data.add(((String[]) input.data())[i]);
            case INT64 -> data.add(((long[]) input.data())[i]);
            case FP32, FP64, FP16 -> {
              double value = number(input, i);
              if (!Double.isFinite(value)) {
                // JSON has no NaN or infinity: such a request cannot be asked of the baseline.
                inFlight.release();
                return;
              }
              data.add(value);
            }
            default -> data.add((long) number(input, i));
          }
        }
      }
      var outputs = request.putArray("outputs");
      ours.forEach(t -> outputs.addObject().put("name", t.name()));
      body = json.writeValueAsBytes(request);
    } catch (java.io.IOException | RuntimeException e) {
      inFlight.release();
      count("failed");
      return;
    }
    send(body, ours);
  }

  /** True when this request is to be mirrored; it then holds one of the in-flight places. */
  private boolean sampled() {
    if (baseline.isEmpty() || ThreadLocalRandom.current().nextDouble() >= fraction) {
      return false;
    }
    if (!inFlight.tryAcquire()) {
      count("dropped");
      return false;
    }
    return true;
  }

  private void send(byte[] body, List<Tensor> ours) {
    http.sendAsync(
            HttpRequest.newBuilder(baseline.get())
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (response, error) -> {
              inFlight.release();
              try {
                if (error != null || response.statusCode() != 200) {
                  count("failed");
                  LOG.debugf(
                      "shadow request failed: %s", error != null ? error : response.statusCode());
                  return;
                }
                double compared = compare(ours, json.readTree(response.body()).path("outputs"));
                if (!Double.isFinite(compared)) {
                  // A non-finite answer (the baseline's NaN) would poison the sums for good.
                  count("failed");
                  return;
                }
                // Opposed outputs count as no agreement: a summary drops negative amounts, which
                // would leave the worst comparisons out of the mean.
                double agreed = Math.max(0, compared);
                agreement.record(agreed);
                disagreementSquares.increment((1 - agreed) * (1 - agreed));
                count("compared");
              } catch (Exception e) {
                count("failed");
              }
            });
  }

  private void count(String outcome) {
    registry.counter(ServingMetrics.SHADOW_REQUESTS, ServingMetrics.OUTCOME, outcome).increment();
  }

  private static double number(Tensor t, int index) {
    Object value = Array.get(t.data(), index);
    return t.datatype() == Datatype.FP16
        ? Half.toFloat((Short) value)
        : t.datatype() == Datatype.UINT8 ? ((Byte) value) & 0xFF : ((Number) value).doubleValue();
  }

  /** Mean over rows (first axis) of the cosine, or of top-1 equality, of the matching outputs. */
  double compare(List<Tensor> ours, JsonNode theirs) {
    double sum = 0;
    int rows = 0;
    for (Tensor t : ours) {
      JsonNode other = null;
      for (JsonNode candidate : theirs) {
        if (candidate.path("name").asText().equals(t.name())) {
          other = candidate.path("data");
        }
      }
      if (other == null
          || !other.isArray()
          || t.datatype() == Datatype.BYTES
          || t.datatype() == Datatype.BOOL) {
        continue; // only numbers are compared
      }
      int n = Array.getLength(t.data());
      long batch = t.shape().length == 0 ? 1 : t.shape()[0];
      int width = (int) (n / Math.max(batch, 1));
      for (int r = 0; r < batch; r++) {
        double dot = 0;
        double a2 = 0;
        double b2 = 0;
        int argA = 0;
        int argB = 0;
        for (int j = 0; j < width; j++) {
          double a = number(t, r * width + j);
          double b = other.path(r * width + j).asDouble();
          dot += a * b;
          a2 += a * a;
          b2 += b * b;
          if (a > number(t, r * width + argA)) {
            argA = j;
          }
          if (b > other.path(r * width + argB).asDouble()) {
            argB = j;
          }
        }
        sum += top1 ? (argA == argB ? 1 : 0) : (a2 == 0 || b2 == 0 ? 0 : dot / Math.sqrt(a2 * b2));
        rows++;
      }
    }
    return rows == 0 ? 0 : sum / rows;
  }
}
