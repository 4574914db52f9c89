package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.util.List;

/** One pipeline stage: the command line its Job runs, and how its result lands in status. */
public interface StageHandler {
  List<String> args(StageContext context);

  /** Copies the stage's JSON result (its container's termination message) into status. */
  void apply(SparseModelStatus status, StageContext context, JsonNode result);

  static StageHandler of(Stage stage) {
    return switch (stage) {
      case PRUNE -> new PruneStage();
      case FINETUNE -> new FineTuneStage();
      case QUANTIZE -> new QuantizeStage();
      case BUILD_ENGINE -> new BuildEngineStage();
      case EVALUATE -> new EvaluateStage();
    };
  }
}
