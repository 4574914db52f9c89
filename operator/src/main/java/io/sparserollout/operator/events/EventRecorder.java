package io.sparserollout.operator.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import org.jboss.logging.Logger;

/**
 * Kubernetes Events on a SparseModel, with typed reasons. Events wait until {@link #flush}, which
 * the reconciler calls once the status that explains them is written: a reconcile that loses a
 * write conflict is retried and records nothing twice. Recording never fails a reconcile.
 */
public final class EventRecorder {
  private static final Logger LOG = Logger.getLogger(EventRecorder.class);

  /** Why an event was recorded; the Kubernetes event reason is the constant's name in CamelCase. */
  public enum Reason {
    REVISION_STARTED(false),
    ARTIFACTS_REUSED(false),
    STAGE_STARTED(false),
    STAGE_FAILED(true),
    STAGE_BLOCKED(true),
    INVALID_SPEC(true),
    NO_ELIGIBLE_GPU_NODE(true),
    ENGINE_FAILED_ON_PRODUCT(true),
    GATE_PASSED(false),
    GATE_FAILED(true),
    CANARY_STARTED(false),
    CANARY_STEP(false),
    ANALYSIS_FAILED(true),
    ANALYSIS_INCONCLUSIVE(true),
    PROMOTED(false),
    ROLLED_BACK(true),
    CANARY_SUPERSEDED(false),
    TRAFFIC_NOT_ROUTABLE(true),
    NAME_TAKEN(true),
    QUALITY_DRIFT(true),
    QUALITY_RECOVERED(false),
    RECALIBRATION_STARTED(false);

    private final boolean warning;

    Reason(boolean warning) {
      this.warning = warning;
    }

    public boolean warning() {
      return warning;
    }

    public String camelCase() {
      StringBuilder out = new StringBuilder();
      for (String part : name().split("_")) {
        out.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
      }
      return out.toString();
    }
  }

  private final KubernetesClient client;
  private final java.util.function.Consumer<Reason> counter;
  private final java.util.List<Runnable> pending = new java.util.ArrayList<>();

  public EventRecorder(KubernetesClient client) {
    this(client, reason -> {});
  }

  /** Each event is also counted when flushed, written or not (the metric alerts fire on). */
  public EventRecorder(KubernetesClient client, java.util.function.Consumer<Reason> counter) {
    this.client = client;
    this.counter = counter;
  }

  public void record(SparseModel model, Reason reason, String message) {
    pending.add(
        () -> {
          create(model, reason, message);
          counter.accept(reason);
        });
  }

  /** Creates the events recorded so far. */
  public void flush() {
    pending.forEach(Runnable::run);
    pending.clear();
  }

  private void create(SparseModel model, Reason reason, String message) {
    String namespace = model.getMetadata().getNamespace();
    String text = message.length() > 1000 ? message.substring(0, 1000) : message;
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String name = name(model, reason, text);
    try {
      Resource<Event> event = client.v1().events().inNamespace(namespace).withName(name);
      Event seen = event.get();
      if (seen == null) {
        try {
          event.create(event(model, reason, text, name, now));
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          seen = event.get(); // created since we looked: count this one on it
        }
      }
      int count = seen == null || seen.getCount() == null ? 1 : seen.getCount();
      event.patch(
          PatchContext.of(PatchType.JSON_MERGE),
          "{\"count\":" + (count + 1) + ",\"lastTimestamp\":\"" + now + "\"}");
    } catch (KubernetesClientException e) {
      LOG.warnf("could not record event %s: %s", reason.camelCase(), e.getMessage());
    }
  }

  /**
   * One Event per (object, reason, message), as client-go's correlator and Flink's EventUtils keep
   * them: a repeat bumps {@code count} and {@code lastTimestamp} instead of adding an object.
   */
  static String name(SparseModel model, Reason reason, String message) {
    String key = model.getMetadata().getUid() + "\n" + reason.name() + "\n" + message;
    String object = model.getMetadata().getName();
    return object.substring(0, Math.min(object.length(), 200)) + "." + digest(key);
  }

  private static String digest(String text) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Event event(
      SparseModel model, Reason reason, String message, String name, String now) {
    return new EventBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(model.getMetadata().getNamespace())
        .endMetadata()
        .withNewInvolvedObject()
        .withApiVersion(model.getApiVersion())
        .withKind(model.getKind())
        .withName(model.getMetadata().getName())
        .withNamespace(model.getMetadata().getNamespace())
        .withUid(model.getMetadata().getUid())
        .endInvolvedObject()
        .withReason(reason.camelCase())
        .withMessage(message)
        .withType(reason.warning ? "Warning" : "Normal")
        .withNewSource()
        .withComponent("sparserollout-operator")
        .endSource()
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withCount(1)
        .build();
  }
}
