package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

class PipelinePlanTest {
  @Test
  void oneShotCpuModelPrunesBuildsAndEvaluates() {
    assertThat(Stage.plan(Fixtures.minilm().getSpec()))
        .containsExactly(Stage.PRUNE, Stage.BUILD_ENGINE, Stage.EVALUATE);
  }

  @Test
  void fineTuningAndPtqAddTheirStagesInOrder() {
    SparseModel model =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("quantization").put("mode", "int8-ptq");
            });

    assertThat(Stage.plan(model.getSpec()))
        .containsExactly(
            Stage.PRUNE,
            Stage.FINETUNE,
            Stage.QUANTIZE,
            Stage.QUANTIZE_DENSE,
            Stage.BUILD_ENGINE,
            Stage.EVALUATE);
    assertThat(StageContext.of(model, "r").inputOf(Stage.EVALUATE)).isEqualTo("quantized.onnx");
  }

  @Test
  void eachStageChecksTheDigestItsProducerReported() {
    SparseModel model =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("quantization").put("mode", "int8-ptq");
            });
    var status = new io.sparserollout.api.v1alpha1.SparseModelStatus();
    status.setCompletedStages(
        List.of(
            new io.sparserollout.api.v1alpha1.StageCompletion("prune", "j1", "u1", "t", "aa"),
            new io.sparserollout.api.v1alpha1.StageCompletion("finetune", "j2", "u2", "t", "bb"),
            new io.sparserollout.api.v1alpha1.StageCompletion("quantize", "j3", "u3", "t", "cc")));
    var context = StageContext.of(model, "r", status);

    assertThat(StageHandler.of(Stage.FINETUNE).command(context).toArgs())
        .containsSubsequence("--expect-sha256", "aa");
    assertThat(StageHandler.of(Stage.QUANTIZE).command(context).toArgs())
        .containsSubsequence("--expect-sha256", "bb");
    assertThat(StageHandler.of(Stage.BUILD_ENGINE).command(context).toArgs())
        .containsSubsequence("--expect-sha256", "cc");
  }

  @Test
  void revisionIgnoresRolloutButNotThePipeline() {
    String base = Revision.of(Fixtures.minilm().getSpec());

    assertThat(Revision.of(Fixtures.minilm(s -> s.with("rollout").put("replicas", 9)).getSpec()))
        .isEqualTo(base);
    assertThat(Revision.of(Fixtures.minilm(s -> s.with("gate").put("maxDrop", 0.2)).getSpec()))
        .isNotEqualTo(base)
        .hasSize(10);
  }

  @Test
  void nextStepFollowsTheStagesStates() {
    List<Stage> plan = List.of(Stage.PRUNE, Stage.BUILD_ENGINE, Stage.EVALUATE);
    var done = new StageState.Succeeded(new io.sparserollout.stage.FetchResult("x", 1L));

    assertThat(PipelineStep.next(plan, java.util.Map.of()))
        .isEqualTo(new PipelineStep.Start(Stage.PRUNE));
    assertThat(PipelineStep.next(plan, java.util.Map.of(Stage.PRUNE, new StageState.Running())))
        .isEqualTo(new PipelineStep.Wait(Stage.PRUNE));
    assertThat(
            PipelineStep.next(
                plan,
                java.util.Map.of(
                    Stage.PRUNE, done, Stage.BUILD_ENGINE, new StageState.Failed("x"))))
        .isEqualTo(new PipelineStep.Fail(Stage.BUILD_ENGINE, "x"));
    assertThat(
            PipelineStep.next(
                plan,
                java.util.Map.of(
                    Stage.PRUNE, done, Stage.BUILD_ENGINE, done, Stage.EVALUATE, done)))
        .isEqualTo(new PipelineStep.Complete());
    // A stage whose result is recorded in status is done, whatever its Job and pods say now.
    var recorded = new StageState.Recorded();
    assertThat(
            PipelineStep.next(
                plan,
                java.util.Map.of(
                    Stage.PRUNE, recorded, Stage.BUILD_ENGINE, recorded, Stage.EVALUATE, done)))
        .isEqualTo(new PipelineStep.Complete());
  }
}
