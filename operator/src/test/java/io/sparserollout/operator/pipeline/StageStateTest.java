package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.StageResults;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.FineTuneResult;
import io.sparserollout.stage.PruneResult;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageStateTest {
  @Test
  void aCompleteJobYieldsItsPodsResultAsTheStagesRecord() {
    StageState state =
        StageState.observe(
            job("Complete"), List.of(pod("Succeeded", StageResults.PRUNED)), PruneResult.class);

    assertThat(state)
        .isInstanceOfSatisfying(
            StageState.Succeeded.class,
            s ->
                assertThat(s.result())
                    .isInstanceOfSatisfying(
                        PruneResult.class, r -> assertThat(r.layersPruned()).isEqualTo(36)));
  }

  @Test
  void aResultThatDoesNotReadAsTheStagesRecordFailsTheStageWithTheText() {
    assertThat(
            StageState.observe(
                job("Complete"),
                List.of(pod("Succeeded", "{\"layersPruned\":\"many\"}")),
                PruneResult.class))
        .isEqualTo(
            new StageState.Failed(
                "the stage finished but its result does not read as a PruneResult:"
                    + " {\"layersPruned\":\"many\"}"));
    assertThat(
            StageState.observe(
                job("Complete"), List.of(pod("Succeeded", "not json")), PruneResult.class))
        .isInstanceOf(StageState.Failed.class);
  }

  @Test
  void aResultWithANumberThatIsNotFiniteFailsTheStageNamingTheField() {
    assertThat(
            StageState.observe(
                job("Complete"),
                List.of(pod("Succeeded", "{\"layersPruned\":36,\"achievedSparsity\":1e400}")),
                PruneResult.class))
        .isInstanceOfSatisfying(
            StageState.Failed.class,
            f -> assertThat(f.message()).contains("achievedSparsity is not a finite number"));
  }

  @Test
  void aFailedJobYieldsTheLastPodsMessage() {
    StageState state =
        StageState.observe(
            job("Failed"),
            List.of(pod("Failed", "sparsify prune: m.onnx is not an ONNX model")),
            PruneResult.class);

    assertThat(state)
        .isInstanceOfSatisfying(
            StageState.Failed.class,
            f ->
                assertThat(f.message())
                    .startsWith("sparsify prune: m.onnx is not an ONNX model")
                    .contains("BackoffLimitExceeded"));
  }

  @Test
  void aCompleteJobWhosePodIsNotSeenYetIsStillRunningUntilThePodIsLost() {
    Job complete = job("Complete");
    complete.getStatus().setCompletionTime("2026-11-22T10:00:00Z");
    Instant finished = Instant.parse("2026-11-22T10:00:00Z");

    // The pod informer lags the Job informer: the pod is still Running in this operator's cache.
    assertThat(
            StageState.observe(
                complete,
                List.of(pod("Running", null)),
                PruneResult.class,
                finished.plusSeconds(1)))
        .isInstanceOf(StageState.Running.class);
    assertThat(
            StageState.observe(complete, List.of(), PruneResult.class, finished.plusSeconds(600)))
        .isEqualTo(
            new StageState.Failed(
                "the stage finished but its pod is gone (deleted before its result was read)"));
    assertThat(
            StageState.observe(
                complete, List.of(pod("Succeeded", null)), PruneResult.class, finished))
        .isEqualTo(
            new StageState.Failed(
                "the stage finished but left no result in its termination message"));
  }

  @Test
  void aRunningJobIsRunningAndNoJobIsNotStarted() {
    assertThat(
            StageState.observe(
                new JobBuilder().withNewMetadata().withName("j").endMetadata().build(),
                List.of(),
                PruneResult.class))
        .isInstanceOf(StageState.Running.class);
    assertThat(StageState.observe(null, List.of(), PruneResult.class))
        .isInstanceOf(StageState.NotStarted.class);
  }

  @Test
  void evaluationResultsBecomeTheGateVerdict() throws Exception {
    var model = Fixtures.minilm();
    var status = new SparseModelStatus();
    var performance = new EvaluationResult.Performance(32, 100.0, 320.0, 2);
    var result =
        new EvaluationResult(
            300,
            new EvaluationResult.Fidelity(0.8, null, null, null, null),
            null,
            performance,
            new EvaluationResult.Performance(32, 150.0, 213.0, 2),
            null,
            null);

    new EvaluateStage().apply(status, StageContext.of(model, "r1"), result);

    assertThat(status.getGate().verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(status.getGate().drop()).isEqualTo(0.2);
    assertThat(status.getGate().message()).contains("absolute drop 0.2000 > allowed 0.1000");
    assertThat(status.getGate().reportUri())
        .isEqualTo("pvc://artifacts/sparserollout/ml/minilm-cpu/r1/reports/evaluate.json");
  }

  @Test
  void fineTuningResultsJoinThePruningStatusAndTheModelMovesOn() throws Exception {
    var model = Fixtures.minilm(s -> s.with("sparsity").put("method", "finetune"));
    var context = StageContext.of(model, "r1");
    var status = new SparseModelStatus();
    new PruneStage()
        .apply(
            status,
            context,
            new PruneResult("sparsegpt", null, 36, List.of(), 0, 0.5, 9.0, null, null));

    new FineTuneStage()
        .apply(
            status, context, new FineTuneResult(null, "pruned", 2200, 0.9037, 0.98, 1123.4, null));

    assertThat(status.getPruning().layersPruned()).isEqualTo(36);
    assertThat(status.getPruning().artifactUri())
        .isEqualTo("pvc://artifacts/sparserollout/ml/minilm-cpu/r1/finetuned.onnx");
    assertThat(status.getPruning().fineTuning())
        .isEqualTo(new PruningStatus.FineTuningResult(2200, 0.9037, 0.98, 1123.4));
  }

  private static Job job(String condition) {
    return new JobBuilder()
        .withNewMetadata()
        .withName("j")
        .endMetadata()
        .withNewStatus()
        .addNewCondition()
        .withType(condition)
        .withStatus("True")
        .withReason(condition.equals("Failed") ? "BackoffLimitExceeded" : null)
        .withMessage(
            condition.equals("Failed") ? "Job has reached the specified backoff limit" : null)
        .endCondition()
        .endStatus()
        .build();
  }

  private static Pod pod(String phase, String message) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withCreationTimestamp("2026-11-22T10:00:00Z")
        .endMetadata()
        .withNewStatus()
        .withPhase(phase)
        .addNewContainerStatus()
        .withName("sparsify")
        .withNewState()
        .withNewTerminated()
        .withExitCode(phase.equals("Failed") ? 2 : 0)
        .withMessage(message)
        .endTerminated()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }
}
