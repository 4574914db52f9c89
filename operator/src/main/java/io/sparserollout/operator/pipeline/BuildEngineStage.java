package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.BuildEngineArgs;
import io.sparserollout.stage.EngineResult;
import java.util.Locale;

/** The serving engine: TensorRT on the chosen GPU product, or ONNX Runtime on CPU. */
final class BuildEngineStage implements StageHandler<EngineResult> {
  @Override
  public Class<EngineResult> resultType() {
    return EngineResult.class;
  }

  @Override
  public BuildEngineArgs command(StageContext c) {
    var engine = c.spec().engine();
    var shapes = engine.shapes();
    return new BuildEngineArgs(
        engine.backend().name().toLowerCase(Locale.ROOT),
        engine.precision().name().toLowerCase(Locale.ROOT),
        c.storage().artifact(c.inputOf(Stage.BUILD_ENGINE)),
        Storage.path(c.spec().source().uri()),
        c.storage().artifact(StageContext.ENGINE),
        new BuildEngineArgs.Range(shapes.minBatch(), shapes.optBatch(), shapes.maxBatch()),
        new BuildEngineArgs.Range(shapes.minSequence(), shapes.optSequence(), shapes.maxSequence()),
        c.inputSha256(Stage.BUILD_ENGINE),
        c.report(Stage.BUILD_ENGINE));
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, EngineResult result) {
    Double speedup = result.speedup();
    status.setEngine(
        new EngineStatus(
            result.backend(),
            result.precision(),
            result.tensorrtVersion(),
            result.gpuProduct(),
            result.sparseLayers(),
            speedup != null && Double.isFinite(speedup)
                ? Math.round(speedup * 1000) / 1000.0
                : null,
            c.storage().artifactUri(StageContext.ENGINE),
            result.sha256()));
  }
}
