package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.util.ArrayList;
import java.util.List;

/** Sparse fine-tuning with distillation from the dense teacher, progressive steps, int8 QAT. */
final class FineTuneStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    var tuning = c.spec().fineTuning();
    List<String> args =
        new ArrayList<>(
            List.of(
                "finetune",
                "--dense",
                Storage.path(c.spec().source().uri()),
                "--init",
                c.storage().artifact(StageContext.PRUNED),
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
    var steps = c.spec().sparsity().progressiveSteps();
    if (steps != null && !steps.isEmpty()) {
      args.add("--progressive");
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
  }
}
