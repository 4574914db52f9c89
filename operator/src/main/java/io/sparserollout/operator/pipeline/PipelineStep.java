package io.sparserollout.operator.pipeline;

import java.util.List;
import java.util.Map;

/** The next thing the pipeline needs, given what every stage's Job says. */
public sealed interface PipelineStep {
  record Start(Stage stage) implements PipelineStep {}

  record Wait(Stage stage) implements PipelineStep {}

  record Fail(Stage stage, String message) implements PipelineStep {}

  record Complete() implements PipelineStep {}

  static PipelineStep next(List<Stage> plan, Map<Stage, StageState> states) {
    for (Stage stage : plan) {
      StageState state = states.getOrDefault(stage, new StageState.NotStarted());
      if (state instanceof StageState.NotStarted) {
        return new Start(stage);
      }
      if (state instanceof StageState.Running || state instanceof StageState.Blocked) {
        return new Wait(stage);
      }
      if (state instanceof StageState.Failed failed) {
        return new Fail(stage, failed.message());
      }
    }
    return new Complete();
  }
}
