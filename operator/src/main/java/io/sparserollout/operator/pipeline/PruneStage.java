package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import io.sparserollout.stage.PruneArgs;
import io.sparserollout.stage.PruneResult;
import java.util.List;

/** 2:4 pruning; {@code finetune} starts from SparseGPT masks, the best one-shot initialisation. */
final class PruneStage implements StageHandler<PruneResult> {
  @Override
  public Class<PruneResult> resultType() {
    return PruneResult.class;
  }

  @Override
  public PruneArgs command(StageContext c) {
    boolean magnitude = c.spec().sparsity().method() == SparsitySpec.Method.MAGNITUDE;
    return new PruneArgs(
        magnitude ? PruneArgs.Method.MAGNITUDE : PruneArgs.Method.SPARSEGPT,
        Storage.path(c.spec().source().uri()),
        c.storage().artifact(StageContext.PRUNED),
        c.maxLength(),
        magnitude ? null : c.tokenizer(),
        magnitude ? null : c.calibration(),
        magnitude ? null : c.spec().sparsity().calibration().samples(),
        c.spec().sparsity().layers().include(),
        c.spec().sparsity().layers().exclude(),
        c.report(Stage.PRUNE),
        magnitude ? null : c.calibrationPart(),
        magnitude ? null : c.calibrationAlsoCaptured(),
        magnitude ? null : c.task());
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, PruneResult result) {
    CapturedWindows.calibration(status, result.captured());
    List<PruningStatus.SkippedLayer> skipped =
        result.layersSkipped() == null
            ? List.of()
            : result.layersSkipped().stream()
                .map(s -> new PruningStatus.SkippedLayer(s.weight(), s.reason()))
                .toList();
    status.setPruning(
        new PruningStatus(
            result.method(),
            result.layersPruned(),
            skipped,
            result.achievedSparsity(),
            c.storage().artifactUri(StageContext.PRUNED)));
  }
}
