package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.StageArgs;
import io.sparserollout.stage.StageResult;
import java.util.List;

/**
 * One pipeline stage: the command line its Job runs, and how its result lands in status. Both sides
 * are the stage-api records sparsify itself parses and writes.
 *
 * @param <R> the result the stage's container leaves as its termination message
 */
public interface StageHandler<R extends StageResult> {
  Class<R> resultType();

  StageArgs command(StageContext context);

  /** Copies the stage's result into status. */
  void apply(SparseModelStatus status, StageContext context, R result);

  default List<String> args(StageContext context) {
    return command(context).toArgs();
  }

  /** {@link #apply} for a result read as this stage's {@link #resultType}. */
  default void applyResult(SparseModelStatus status, StageContext context, StageResult result) {
    apply(status, context, resultType().cast(result));
  }

  static StageHandler<?> of(Stage stage) {
    return switch (stage) {
      case PRUNE -> new PruneStage();
      case FINETUNE -> new FineTuneStage();
      case QUANTIZE -> new QuantizeStage();
      case QUANTIZE_DENSE -> new QuantizeDenseStage();
      case BUILD_ENGINE -> new BuildEngineStage();
      case EVALUATE -> new EvaluateStage();
    };
  }
}
