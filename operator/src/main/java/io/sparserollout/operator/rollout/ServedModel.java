package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Storage;
import io.sparserollout.operator.placement.GpuPlacement;
import java.util.Locale;

/**
 * What one serving Deployment serves: a pipeline revision's engine, the dense source model as the
 * stable before the first promotion ({@link #DENSE}), or the dense model as the canary's shadow
 * baseline ({@link #BASELINE}), which never takes client traffic.
 *
 * @param shadowUrl the baseline's model URL the canary mirrors to; null for no mirroring
 */
public record ServedModel(
    String key,
    String uri,
    String backend,
    GpuPlacement.Decision placement,
    String shadowUrl,
    double shadowFraction) {
  public static final String DENSE = "dense";
  public static final String BASELINE = "baseline";

  public static ServedModel dense(SparseModel model, String key) {
    return new ServedModel(
        key, model.getSpec().source().uri(), "onnxruntime", new GpuPlacement.OnCpu(), null, 0);
  }

  /**
   * A revision's engine, as the build-engine stage wrote it under the revision's artifacts.
   *
   * @param gpuProduct the product the plan was built on (tensorrt only)
   */
  public static ServedModel revision(SparseModel model, String revision, String gpuProduct) {
    EngineSpec engine = model.getSpec().engine();
    boolean tensorrt = engine.backend() == EngineSpec.Backend.TENSORRT;
    String file = tensorrt ? "engine/model.plan" : "engine/model.onnx";
    GpuPlacement.Decision placement =
        tensorrt && gpuProduct != null
            ? GpuPlacement.servingOn(engine, gpuProduct)
            : new GpuPlacement.OnCpu();
    return new ServedModel(
        revision,
        new Storage(model, revision).artifactUri(file),
        engine.backend().name().toLowerCase(Locale.ROOT),
        placement,
        null,
        0);
  }

  /** The same model, mirroring a fraction of its requests to the dense baseline. */
  public ServedModel mirroringTo(String url, double fraction) {
    return new ServedModel(key, uri, backend, placement, url, fraction);
  }

  /** Whether the model file has to be copied into the pod first (it is not on a PVC). */
  boolean needsFetch() {
    return !uri.startsWith("pvc://");
  }
}
