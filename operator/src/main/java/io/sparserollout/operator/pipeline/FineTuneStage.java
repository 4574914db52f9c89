package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import io.sparserollout.stage.FineTuneArgs;
import io.sparserollout.stage.FineTuneResult;

/**
 * Sparse fine-tuning with distillation from the dense teacher and, with labels, a task loss; int8
 * QAT. Without progressiveSteps it starts from the pruned model; with them it prunes the dense
 * weights itself (1:4 then 2:4 when the schedule has a 1:4 step, else 2:4 at once).
 */
final class FineTuneStage implements StageHandler<FineTuneResult> {
  @Override
  public Class<FineTuneResult> resultType() {
    return FineTuneResult.class;
  }

  @Override
  public FineTuneArgs command(StageContext c) {
    var tuning = c.spec().fineTuning();
    var schedule = c.spec().sparsity().progressiveSteps();
    boolean fromDense = schedule != null && !schedule.isEmpty();
    var layers = c.spec().sparsity().layers();
    return new FineTuneArgs(
        Storage.path(c.spec().source().uri()),
        // The pruned model's zeros are the masks; a schedule prunes the dense weights itself.
        fromDense ? null : c.storage().artifact(StageContext.PRUNED),
        c.tokenizer(),
        c.calibration(),
        c.storage().artifact(StageContext.FINETUNED),
        tuning.steps(),
        tuning.batchSize(),
        tuning.learningRate(),
        c.spec().quantization().mode() == QuantizationSpec.Mode.INT8_QAT,
        fromDense ? layers.include() : null,
        fromDense ? layers.exclude() : null,
        fromDense && schedule.contains(SparsitySpec.Pattern.ONE_FOUR),
        tuning.labelsUri() == null ? null : Storage.path(tuning.labelsUri()),
        Boolean.TRUE.equals(tuning.distillation()),
        fromDense ? null : c.inputSha256(Stage.FINETUNE),
        c.report(Stage.FINETUNE),
        null, // one worker; WorkerSet gives each of several its place
        c.task());
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, FineTuneResult result) {
    ModelArtifacts.replace(status, c.storage().artifactUri(StageContext.FINETUNED));
    if (status.getPruning() != null) {
      status.setPruning(
          status
              .getPruning()
              .withFineTuning(
                  new PruningStatus.FineTuningResult(
                      result.steps(),
                      result.initialFidelity(),
                      result.finalFidelity(),
                      result.seconds())));
    }
  }
}
