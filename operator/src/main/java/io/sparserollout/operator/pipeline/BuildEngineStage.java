package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.VariantStatus;
import io.sparserollout.stage.BuildEngineArgs;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.SpeedRatio;
import io.sparserollout.stage.VariantModel;
import java.util.List;
import java.util.Locale;

/**
 * The serving engines: one per variant (TensorRT on the chosen GPU product, or ONNX Runtime on
 * CPU), each timed on the node pool that serves. Evaluation then picks the one served.
 */
final class BuildEngineStage implements StageHandler<EngineResult> {
  @Override
  public Class<EngineResult> resultType() {
    return EngineResult.class;
  }

  @Override
  public BuildEngineArgs command(StageContext c) {
    var engine = c.spec().engine();
    var shapes = engine.shapes();
    List<VariantModel> variants = Variants.models(c);
    VariantModel primary = Variants.model(c, Variants.primary(c.spec()));
    return new BuildEngineArgs(
        engine.backend().name().toLowerCase(Locale.ROOT),
        VariantModel.precisionOf(primary.name()),
        primary.model(),
        Storage.path(c.spec().source().uri()),
        c.storage().artifact(StageContext.ENGINE),
        new BuildEngineArgs.Range(shapes.minBatch(), shapes.optBatch(), shapes.maxBatch()),
        new BuildEngineArgs.Range(shapes.minSequence(), shapes.optSequence(), shapes.maxSequence()),
        primary.sha256(),
        variants,
        c.report(Stage.BUILD_ENGINE));
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, EngineResult result) {
    String engineUri = c.storage().artifactUri(StageContext.ENGINE);
    String primary = null;
    if (result.variants() != null && !result.variants().isEmpty()) {
      status.setVariants(variants(c, result, engineUri));
      // The top level describes the variant whose engine has its digest: the spec's primary.
      primary =
          result.variants().stream()
              .filter(v -> v.sha256() != null && v.sha256().equals(result.sha256()))
              .map(EngineResult.VariantEngine::name)
              .findFirst()
              .orElse(null);
      engineUri = primary == null ? null : engineUri + "/" + primary;
    }
    status.setEngine(
        new EngineStatus(
            result.backend(),
            result.precision(),
            result.tensorrtVersion(),
            result.gpuProduct(),
            result.sparseLayers(),
            finite(result.speedup()),
            engineUri,
            result.sha256(),
            primary));
  }

  /** Each variant's engine and speed at the opt shape, against the dense float variant's. */
  private static List<VariantStatus> variants(
      StageContext c, EngineResult result, String engineUri) {
    String reference = Variants.denseFloat(c.spec());
    EngineResult.Timing dense =
        result.variants().stream()
            .filter(v -> reference.equals(v.name()))
            .map(BuildEngineStage::main)
            .filter(java.util.Objects::nonNull)
            .findFirst()
            .orElse(null);
    return result.variants().stream()
        .map(
            v -> {
              EngineResult.Timing t = main(v);
              String uri = engineUri + "/" + v.name();
              if (t == null) {
                return new VariantStatus(
                    v.name(),
                    uri,
                    v.sha256(),
                    v.sparseLayers(),
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null);
              }
              SpeedRatio speedup =
                  dense == null
                      ? null
                      : SpeedRatio.of(
                          t.perSecond(),
                          usable(t.perSecondByRepetition()),
                          dense.perSecond(),
                          usable(dense.perSecondByRepetition()));
              return new VariantStatus(
                  v.name(),
                  uri,
                  v.sha256(),
                  v.sparseLayers(),
                  t.batch(),
                  t.sequence(),
                  finite(t.perSecond()),
                  finite(t.p50Ms()),
                  finite(t.p99Ms()),
                  finite(t.spread()),
                  usable(t.perSecondByRepetition()),
                  speedup == null ? null : finite(speedup.estimate()),
                  speedup == null ? null : finite(speedup.low()),
                  speedup == null ? null : finite(speedup.high()),
                  null,
                  null,
                  null,
                  null,
                  null);
            })
        .toList();
  }

  /**
   * The repetitions in order, each that is no positive finite number written 0 (status holds
   * numbers only; a 0 leaves that pair out of every comparison, as {@link SpeedRatio} does).
   */
  static List<Double> usable(List<Double> repetitions) {
    return repetitions == null
        ? null
        : repetitions.stream()
            .map(r -> r != null && r > 0 && Double.isFinite(r) ? r : 0.0)
            .toList();
  }

  /** The timing at the opt shape (the first), or null. */
  private static EngineResult.Timing main(EngineResult.VariantEngine v) {
    return v.timings() == null || v.timings().isEmpty() ? null : v.timings().get(0);
  }

  /** Rounded, or null when not a positive finite number (a field the result left out reads 0). */
  private static Double finite(Double value) {
    return value != null && Double.isFinite(value) && value > 0
        ? Math.round(value * 1000) / 1000.0
        : null;
  }
}
