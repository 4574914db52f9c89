package io.sparserollout.operator.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.ProductEngine;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.Storage;
import io.sparserollout.operator.placement.GpuPlacement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What one serving Deployment serves: a pipeline revision's engine, the dense source model as the
 * stable before the first promotion ({@link #DENSE}), or the dense model as the canary's shadow
 * baseline ({@link #BASELINE}), which never takes client traffic.
 *
 * @param shadowUrl the baseline's model URL the canary mirrors to; null for no mirroring
 * @param sha256 the digest the engine stage reported for the file; the pod refuses another (null:
 *     not checked, as for the user's own dense model)
 * @param alsoOn the same variant's plans built on other GPU products, which the pods on those
 *     products load instead (empty: one product, or none)
 */
public record ServedModel(
    String key,
    String uri,
    String backend,
    GpuPlacement.Decision placement,
    String shadowUrl,
    double shadowFraction,
    String sha256,
    List<OtherPlan> alsoOn) {
  /** A plan built on another GPU product: where it lies and its file's digest. */
  public record OtherPlan(String product, String uri, String sha256) {}

  public ServedModel(
      String key,
      String uri,
      String backend,
      GpuPlacement.Decision placement,
      String shadowUrl,
      double shadowFraction,
      String sha256) {
    this(key, uri, backend, placement, shadowUrl, shadowFraction, sha256, List.of());
  }

  public static final String DENSE = "dense";
  public static final String BASELINE = "baseline";

  /**
   * Where a Deployment records what it serves: a revision keeps serving its own engine when a later
   * spec (another backend, store or GPU profile) describes a different one.
   */
  static final String ANNOTATION = "sparserollout.io/served-model";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The part of a served model that belongs to its revision, not to the current spec. Plans on
   * other products are left out when there are none, so identities recorded before them read the
   * same.
   */
  record Identity(
      String uri,
      String backend,
      String gpuProduct,
      String gpuResource,
      String sha256,
      @com.fasterxml.jackson.annotation.JsonInclude(
              com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
          List<OtherPlan> alsoOn) {}

  String identity() {
    String product = null;
    String resource = null;
    if (placement instanceof GpuPlacement.OnGpu gpu) {
      product = gpu.product();
      resource = gpu.resource();
    } else if (placement instanceof GpuPlacement.OnProducts gpus) {
      product = gpus.products().get(0);
      resource = gpus.resource();
    }
    try {
      return JSON.writeValueAsString(new Identity(uri, backend, product, resource, sha256, alsoOn));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the Deployment records it serves; empty when it records nothing readable. */
  static Optional<ServedModel> recorded(String key, Deployment deployment) {
    return fromIdentity(key, recordedText(deployment));
  }

  /** The identity text a Deployment records, or null. */
  static String recordedText(Deployment deployment) {
    Map<String, String> annotations = deployment.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(ANNOTATION);
  }

  /** A served model from its recorded identity text; empty when it is not readable. */
  static Optional<ServedModel> fromIdentity(String key, String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      Identity identity = JSON.readValue(text, Identity.class);
      if (identity.uri() == null || identity.backend() == null) {
        return Optional.empty();
      }
      GpuPlacement.Decision placement =
          identity.gpuResource() == null
              ? new GpuPlacement.OnCpu()
              : GpuPlacement.servingOn(identity.gpuProduct(), identity.gpuResource());
      ServedModel served =
          new ServedModel(
              key, identity.uri(), identity.backend(), placement, null, 0, identity.sha256());
      return Optional.of(
          identity.alsoOn() == null ? served : served.alsoOn(List.copyOf(identity.alsoOn())));
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

  public static ServedModel dense(SparseModel model, String key) {
    return new ServedModel(
        key,
        model.getSpec().source().uri(),
        "onnxruntime",
        new GpuPlacement.OnCpu(),
        null,
        0,
        null);
  }

  /**
   * A revision's engine, as the build-engine stage wrote it under the revision's artifacts.
   *
   * @param gpuProduct the product label the plan was built on (tensorrt only; null: not known)
   */
  public static ServedModel revision(SparseModel model, String revision, String gpuProduct) {
    return revision(model, revision, gpuProduct, null);
  }

  /**
   * @param engineDir where the engine stage wrote (status.engine.artifactUri): another model's
   *     place when this revision reused its artifacts; null for this revision's own place
   */
  public static ServedModel revision(
      SparseModel model, String revision, String gpuProduct, String engineDir) {
    EngineSpec engine = model.getSpec().engine();
    boolean tensorrt = engine.backend() == EngineSpec.Backend.TENSORRT;
    String name = tensorrt ? "model.plan" : "model.onnx";
    String uri =
        engineDir == null
            ? new Storage(model, revision).artifactUri(StageContext.ENGINE + "/" + name)
            : engineDir.replaceAll("/+$", "") + "/" + name;
    // A plan runs only on a GPU: with no product on record (none recorded yet), the spec's, else
    // any GPU node, whose pod then checks the plan's key against its own GPU.
    GpuPlacement.Decision placement =
        tensorrt
            ? GpuPlacement.servingOn(
                engine, gpuProduct != null ? gpuProduct : engine.gpu().product())
            : new GpuPlacement.OnCpu();
    return new ServedModel(
        revision, uri, engine.backend().name().toLowerCase(Locale.ROOT), placement, null, 0, null);
  }

  /** The same model, to be loaded only when its file has this digest. */
  public ServedModel withSha256(String digest) {
    return new ServedModel(key, uri, backend, placement, shadowUrl, shadowFraction, digest, alsoOn);
  }

  /** The same model, mirroring a fraction of its requests to the dense baseline. */
  public ServedModel mirroringTo(String url, double fraction) {
    return new ServedModel(key, uri, backend, placement, url, fraction, sha256, alsoOn);
  }

  /**
   * The same plan, and {@code others} built on other GPU products: pods go to any of the products
   * and load their own GPU's plan. Nothing changes for one product, or a model on CPU.
   */
  public ServedModel alsoOn(List<OtherPlan> others) {
    if (others.isEmpty() || !(placement instanceof GpuPlacement.OnGpu gpu)) {
      return this;
    }
    List<String> products = new java.util.ArrayList<>();
    products.add(gpu.product());
    others.forEach(o -> products.add(o.product()));
    return new ServedModel(
        key,
        uri,
        backend,
        GpuPlacement.servingOn(products, gpu.resource()),
        shadowUrl,
        shadowFraction,
        sha256,
        List.copyOf(others));
  }

  /** The served variant's plans on the other GPU products the engine stage built for. */
  public static List<OtherPlan> otherPlans(EngineStatus engine) {
    if (engine == null || engine.otherProducts() == null) {
      return List.of();
    }
    List<OtherPlan> plans = new java.util.ArrayList<>();
    for (ProductEngine product : engine.otherProducts()) {
      ProductEngine.Plan plan = product.plan(engine.variant());
      if (plan != null) {
        plans.add(new OtherPlan(product.gpuProduct(), plan.uri(), plan.sha256()));
      }
    }
    return plans;
  }

  /** Whether the model file has to be copied into the pod first (it is not on a PVC). */
  boolean needsFetch() {
    return !uri.startsWith("pvc://");
  }
}
