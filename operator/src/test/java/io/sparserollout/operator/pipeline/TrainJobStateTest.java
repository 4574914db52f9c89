package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.operator.StageResults;
import io.sparserollout.stage.FineTuneResult;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainJobStateTest {
  private static final Instant NOW = Instant.parse("2026-12-07T06:00:00Z");
  private static final String RESULT =
      StageResults.json(
          new FineTuneResult(
              "/mnt/artifacts/finetuned.onnx", null, 30, 0.9, 0.95, 60.0, "2".repeat(64)));

  @Test
  void noTrainJobIsNotStarted() {
    assertThat(observe(null, null, List.of())).isInstanceOf(StageState.NotStarted.class);
  }

  @Test
  void aCompleteTrainJobsResultIsWorkerZerosTerminationMessage() {
    StageState state =
        observe(
            trainJob("Complete", "AllJobsCompleted", "jobset completed successfully"),
            job("Complete"),
            List.of(pod("1", "Succeeded", ""), pod("0", "Succeeded", RESULT)));
    assertThat(state)
        .isInstanceOfSatisfying(
            StageState.Succeeded.class,
            s -> assertThat(((FineTuneResult) s.result()).finalFidelity()).isEqualTo(0.95));
  }

  @Test
  void aCompleteTrainJobWithoutItsNodeJobHasLostItsResult() {
    assertThat(observe(trainJob("Complete", "AllJobsCompleted", "done"), null, List.of()))
        .isInstanceOfSatisfying(
            StageState.Failed.class,
            f -> assertThat(f.message()).contains("completed, but its node Job").contains("gone"));
  }

  @Test
  void aFailedTrainJobFailsTheStageWithItsReasonAndTheFailedWorkersMessage() {
    StageState state =
        observe(
            trainJob("Failed", "FailedJobs", "jobset failed due to one or more job failures"),
            job("Failed"),
            List.of(pod("1", "Failed", "sparsify finetune: lost contact with the other workers")));
    assertThat(state)
        .isInstanceOfSatisfying(
            StageState.Failed.class,
            f ->
                assertThat(f.message())
                    .startsWith(
                        "TrainJob tune failed: FailedJobs: jobset failed due to one or more job"
                            + " failures; its node Job: sparsify finetune: lost contact"));
  }

  @Test
  void aNodeJobThatFailedIsNotTheEndWhileItsJobSetMayRestartIt() {
    assertThat(observe(trainJob(null, null, null), job("Failed"), List.of(pod("0", "Failed", "x"))))
        .isInstanceOf(StageState.Running.class);
  }

  @Test
  void aSuspendedTrainJobWaitsForItsQueueAndSaysSo() {
    assertThat(
            observe(trainJob("Suspended", "Suspended", "TrainJob is suspended"), null, List.of()))
        .isInstanceOfSatisfying(
            StageState.Blocked.class,
            b -> {
              assertThat(b.reason()).isEqualTo("TrainJobSuspended");
              assertThat(b.message()).contains("TrainJob tune is suspended");
            });
  }

  @Test
  void onlyIndexZeroIsWorkerZero() {
    assertThat(
            TrainJobState.workerZero(List.of(pod("1", "Running", null), pod("0", "Running", null))))
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("tune-node-0-0");
  }

  private static StageState observe(GenericKubernetesResource trainJob, Job job, List<Pod> pods) {
    return TrainJobState.observe(trainJob, job, pods, FineTuneResult.class, NOW);
  }

  private static GenericKubernetesResource trainJob(
      String condition, String reason, String message) {
    var builder =
        new GenericKubernetesResourceBuilder()
            .withApiVersion(TrainJobs.API_VERSION)
            .withKind(TrainJobs.KIND)
            .withNewMetadata()
            .withName("tune")
            .endMetadata();
    if (condition == null) {
      return builder.build();
    }
    return builder
        .withAdditionalProperties(
            Map.of(
                "status",
                Map.of(
                    "conditions",
                    List.of(
                        Map.of(
                            "type", condition,
                            "status", "True",
                            "reason", reason,
                            "message", message)))))
        .build();
  }

  private static Job job(String condition) {
    return new JobBuilder()
        .withNewMetadata()
        .withName("tune-node-0")
        .endMetadata()
        .withNewStatus()
        .withCompletionTime("2026-12-07T05:59:00Z")
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

  private static Pod pod(String index, String phase, String message) {
    var builder =
        new PodBuilder()
            .withNewMetadata()
            .withName("tune-node-0-" + index)
            .withCreationTimestamp("2026-12-07T05:00:0" + index + "Z")
            .withAnnotations(Map.of(TrainJobs.COMPLETION_INDEX, index))
            .endMetadata()
            .withNewStatus()
            .withPhase(phase);
    if (message != null) {
      builder =
          builder
              .addNewContainerStatus()
              .withName("node")
              .withNewState()
              .withNewTerminated()
              .withExitCode(phase.equals("Failed") ? 1 : 0)
              .withMessage(message)
              .withFinishedAt("2026-12-07T05:58:00Z")
              .endTerminated()
              .endState()
              .endContainerStatus();
    }
    return builder.endStatus().build();
  }
}
