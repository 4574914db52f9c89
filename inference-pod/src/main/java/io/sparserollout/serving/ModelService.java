package io.sparserollout.serving;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.sparserollout.serving.backend.Backends;
import io.sparserollout.serving.backend.InferenceBackend;
import io.sparserollout.stage.ServingMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Loads the one model this pod serves at start; a model that cannot load stops the pod. */
@Startup
@ApplicationScoped
public class ModelService {
  private static final Logger LOG = Logger.getLogger(ModelService.class);
  private final String name;
  private final InferenceBackend backend;
  private volatile boolean stopping;

  public ModelService(
      @ConfigProperty(name = "serving.model-name") String name,
      @ConfigProperty(name = "serving.model-path") String path,
      @ConfigProperty(name = "serving.backend") String backendName,
      @ConfigProperty(name = "serving.threads") int threads,
      @ConfigProperty(name = "serving.model-sha256") java.util.Optional<String> sha256,
      @ConfigProperty(name = "serving.other-plans") java.util.Optional<String> otherPlans,
      MeterRegistry registry) {
    if (path == null || path.isBlank()) {
      throw new IllegalStateException("MODEL_PATH is not set: name the model file to serve");
    }
    Backends.Plan model =
        new Backends.Plan(Path.of(path), sha256.filter(s -> !s.isBlank()).orElse(null));
    if (otherPlans.isPresent() && "tensorrt".equals(backendName)) {
      // Plans of the same variant built on other GPU products: this pod's GPU picks.
      List<Backends.Plan> plans = new ArrayList<>(List.of(model));
      plans.addAll(plans(otherPlans.get()));
      model = Backends.planForThisGpu(plans);
    }
    // The gated engine only: a file put in its place after the gate stops the pod.
    String mismatch = io.sparserollout.stage.Sha256.mismatch(model.path(), model.sha256());
    if (mismatch != null) {
      throw new IllegalStateException("refusing to serve: " + mismatch);
    }
    path = model.path().toString();
    this.name = name;
    long start = System.nanoTime();
    this.backend = Backends.open(backendName, model.path(), threads);
    double seconds = (System.nanoTime() - start) / 1e9;
    Gauge.builder("model_load_seconds", () -> seconds)
        .description("Time to load the model at start")
        .tag(ServingMetrics.MODEL, name)
        .register(registry);
    LOG.infof("serving %s from %s with %s in %.2f s", name, path, backend.platform(), seconds);
  }

  /** OTHER_PLANS: a JSON array of {"path", "sha256"}, as the operator writes it. */
  static List<Backends.Plan> plans(String json) {
    try {
      List<Backends.Plan> plans = new ArrayList<>();
      for (com.fasterxml.jackson.databind.JsonNode plan :
          new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)) {
        if (!plan.path("path").isTextual()) {
          throw new IllegalStateException("OTHER_PLANS: every plan needs a path, got " + plan);
        }
        plans.add(
            new Backends.Plan(
                Path.of(plan.path("path").asText()),
                plan.path("sha256").isTextual() ? plan.path("sha256").asText() : null));
      }
      return plans;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(
          "OTHER_PLANS is not a JSON array of plans: " + e.getMessage());
    }
  }

  public String name() {
    return name;
  }

  /** Throws UnknownModel unless this pod serves that model and version. */
  public void require(String model, String version) {
    if (!name.equals(model) || !V2Resource.VERSION.equals(version)) {
      throw new UnknownModel(
          "unknown model "
              + model
              + " version "
              + version
              + "; this server serves "
              + name
              + " version "
              + V2Resource.VERSION);
    }
  }

  public InferenceBackend backend() {
    return backend;
  }

  /** True once a graceful stop began: the pod still serves but is no longer ready. */
  public boolean stopping() {
    return stopping;
  }

  /** SIGTERM: serve on through the shutdown delay, but tell probes this pod is going away. */
  void stopping(@Observes ShutdownDelayInitiatedEvent event) {
    stopping = true;
  }

  void stop(@Observes ShutdownEvent event) {
    backend.close();
  }
}
