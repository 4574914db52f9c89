package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Sparse fine-tuning with distillation from the dense teacher and, with labels, a task loss; int8
 * QAT. Without progressiveSteps it starts from the pruned model; with them it prunes the dense
 * weights itself (1:4 then 2:4 when the schedule has a 1:4 step, else 2:4 at once).
 */
final class FineTuneStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    var tuning = c.spec().fineTuning();
    var schedule = c.spec().sparsity().progressiveSteps();
    boolean fromDense = schedule != null && !schedule.isEmpty();
    List<String> args =
        new ArrayList<>(List.of("finetune", "--dense", Storage.path(c.spec().source().uri())));
    if (!fromDense) {
      // The pruned model's zeros are the masks; a schedule prunes the dense weights itself.
      args.addAll(List.of("--init", c.storage().artifact(StageContext.PRUNED)));
    }
    args.addAll(
        List.of(
            "--tokenizer",
            c.tokenizer(),
            "--train",
            c.calibration(),
            "--out",
            c.storage().artifact(StageContext.FINETUNED),
            "--steps",
            tuning.steps().toString(),
            "--batch-size",
            tuning.batchSize().toString(),
            "--learning-rate",
            tuning.learningRate().toString()));
    if (c.spec().quantization().mode() == QuantizationSpec.Mode.INT8_QAT) {
      args.addAll(List.of("--qat", "int8"));
    }
    if (fromDense) {
      PruneStage.addList(args, "--include", c.spec().sparsity().layers().include());
      PruneStage.addList(args, "--exclude", c.spec().sparsity().layers().exclude());
      if (schedule.contains(SparsitySpec.Pattern.ONE_FOUR)) {
        args.add("--progressive");
      }
    }
    if (tuning.labelsUri() != null) {
      args.addAll(List.of("--labels", Storage.path(tuning.labelsUri())));
    }
    if (!Boolean.TRUE.equals(tuning.distillation())) {
      args.add("--no-distillation");
    }
    args.addAll(c.reportArgs(Stage.FINETUNE));
    return args;
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, JsonNode result) {
    ModelArtifacts.replace(status, c.storage().artifactUri(StageContext.FINETUNED));
    if (status.getPruning() != null) {
      status.setPruning(
          status
              .getPruning()
              .withFineTuning(
                  new PruningStatus.FineTuningResult(
                      result.path("steps").asInt(),
                      result.path("initialFidelity").asDouble(),
                      result.path("finalFidelity").asDouble(),
                      result.path("seconds").asDouble())));
    }
  }
}
