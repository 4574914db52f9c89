package io.sparserollout.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
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
  private final ShadowAgreement agreementOf;
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
    this.agreementOf = ShadowAgreement.of(metric);
    this.json = json;
    this.registry = registry;
    this.agreement =
        DistributionSummary.builder(ServingMetrics.SHADOW_AGREEMENT)
            .description(
                "Agreement of this model's outputs with the baseline's on mirrored requests"
                    + " (mean cosine per row, top-1 equality per row, or of a ranker the same"
                    + " first row)")
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
    if (!sampled(ours)) {
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
    if (!sampled(ours)) {
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
  private boolean sampled(List<Tensor> ours) {
    if (baseline.isEmpty() || ThreadLocalRandom.current().nextDouble() >= fraction) {
      return false;
    }
    if (!agreementOf.comparable(ours)) {
      // One document has no order to agree on: a ranker's request is a query's documents.
      count("single_document");
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
    return ShadowAgreement.number(t, index);
  }

  double compare(List<Tensor> ours, JsonNode theirs) {
    return agreementOf.compare(ours, theirs);
  }
}
