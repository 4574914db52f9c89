package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.StageResults;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.FineTuneResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerSetTest {
  private static final Instant NOW = Instant.parse("2026-12-06T04:00:00Z");
  private final SparseModel model =
      Fixtures.minilm(
          spec -> {
            spec.with("sparsity").put("method", "finetune");
            spec.with("fineTuning").put("workers", 3);
          });
  private final String revision = Revision.of(model.getSpec());

  @Test
  void eachWorkerIsAJobToldItsRankAndWorkerZerosServiceIsTheRendezvous() {
    List<Job> jobs = jobs();
    String stem = "minilm-cpu-" + revision + "-finetune";
    String master = stem + ".ml.svc:29500";

    assertThat(jobs)
        .extracting(j -> j.getMetadata().getName())
        .containsExactly(stem, stem + "-1", stem + "-2");
    for (int rank = 0; rank < 3; rank++) {
      Job job = jobs.get(rank);
      assertThat(job.getMetadata().getLabels()).containsEntry("sparserollout.io/worker", "" + rank);
      assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
          .containsEntry("sparserollout.io/worker", "" + rank)
          .containsEntry(StageJobs.STAGE_LABEL, "finetune");
      assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
          .containsSubsequence("finetune", "--dense")
          .containsSubsequence("--workers", "3", "--rank", "" + rank, "--master", master);
    }
    assertThat(jobs.get(0).getSpec().getTemplate().getSpec().getContainers().get(0).getPorts())
        .extracting(p -> p.getName() + ":" + p.getContainerPort())
        .containsExactly("progress:8080", "rendezvous:29500");
    assertThat(jobs.get(1).getSpec().getTemplate().getSpec().getContainers().get(0).getPorts())
        .extracting(p -> p.getName() + ":" + p.getContainerPort())
        .containsExactly("progress:8080");
    assertThat(jobs.get(0).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("SPARSIFY_PROGRESS_PORT");
              assertThat(e.getValue()).isEqualTo("8080");
            });

    Job zero = jobs.get(0);
    zero.getMetadata().setUid("uid-0");
    Service service = WorkerSet.rendezvous(model, revision, Stage.FINETUNE, zero);
    assertThat(service.getMetadata().getName()).isEqualTo(stem);
    assertThat(service.getSpec().getClusterIP()).isNull(); // a virtual IP, not headless
    assertThat(service.getSpec().getSelector())
        .containsEntry("sparserollout.io/worker", "0")
        .containsEntry("controller-uid", "uid-0")
        .containsEntry(StageJobs.REVISION_LABEL, revision)
        .containsEntry(StageJobs.STAGE_LABEL, "finetune");
    assertThat(service.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-0"));

    // Only the same worker set reaches the workers, and only the operator their progress port.
    var policy = WorkerSet.isolation(model, revision, Stage.FINETUNE, zero);
    var set = StageJobs.labels(model, revision, Stage.FINETUNE);
    assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(set);
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress()).hasSize(2);
    assertThat(policy.getSpec().getIngress().get(0).getFrom())
        .singleElement()
        .satisfies(
            peer -> {
              assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(set);
              assertThat(peer.getNamespaceSelector()).isNull(); // this namespace only
            });
    assertThat(policy.getSpec().getIngress().get(0).getPorts()).isNullOrEmpty();
    assertThat(policy.getSpec().getIngress().get(1).getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(8080));
    assertThat(policy.getSpec().getIngress().get(1).getFrom())
        .singleElement()
        .satisfies(
            peer ->
                assertThat(peer.getPodSelector().getMatchLabels())
                    .containsEntry("app.kubernetes.io/name", "sparserollout-operator"));
  }

  @Test
  void otherStagesAndOneWorkerKeepTheirSingleJob() {
    var one = Fixtures.minilm(spec -> spec.with("sparsity").put("method", "finetune"));
    var context = StageContext.of(one, Revision.of(one.getSpec()));
    List<Job> single =
        StageJobs.forStage(
            context,
            Revision.of(one.getSpec()),
            Stage.FINETUNE,
            new GpuPlacement.OnCpu(),
            settings());

    assertThat(single)
        .singleElement()
        .satisfies(
            j -> {
              assertThat(j.getMetadata().getLabels()).doesNotContainKey("sparserollout.io/worker");
              assertThat(j.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                  .doesNotContain("--workers", "--rank", "--master");
            });
    assertThat(WorkerSet.workers(model, Stage.PRUNE)).isEqualTo(1);
  }

  @Test
  void claimsTheWorkersCannotAllMountAreNamed() {
    assertThat(WorkerSet.unshareable(model, Map.of())).isNull(); // not found: scheduling says so
    assertThat(
            WorkerSet.unshareable(
                model,
                Map.of(
                    "artifacts",
                    claim("artifacts", "ReadWriteMany"),
                    "models",
                    claim("models", "ReadOnlyMany"))))
        .isNull();
    assertThat(
            WorkerSet.unshareable(model, Map.of("artifacts", claim("artifacts", "ReadWriteOnce"))))
        .contains("claim artifacts is ReadWriteOnce")
        .contains("ReadWriteMany claim (or S3), or one worker");
    // The store is written by worker 0: read-only-many is not enough there.
    assertThat(
            WorkerSet.unshareable(model, Map.of("artifacts", claim("artifacts", "ReadOnlyMany"))))
        .contains("claim artifacts is ReadOnlyMany");
  }

  @Test
  void workerZerosResultIsTheStagesAndOnlyAllJobsMakeTheSetStarted() {
    var done =
        WorkerStates.observe(
            List.of(
                worker(0, "Complete", pod("Succeeded", finetuned(), "10:00:00")),
                worker(1, "Complete", pod("Succeeded", null, "10:00:00")),
                worker(2, null)),
            3,
            FineTuneResult.class,
            NOW);
    assertThat(done).isInstanceOf(StageState.Succeeded.class);

    var missing =
        WorkerStates.observe(
            List.of(worker(0, null), new WorkerStates.Worker(1, null, List.of()), worker(2, null)),
            3,
            FineTuneResult.class,
            NOW);
    assertThat(missing).isInstanceOf(StageState.NotStarted.class);

    // Worker 1 done before worker 0 is progress, not the stage's result or a missing result.
    var running =
        WorkerStates.observe(
            List.of(
                worker(0, null),
                worker(1, "Complete", pod("Succeeded", null, "10:00:00")),
                worker(2, null)),
            3,
            FineTuneResult.class,
            NOW);
    assertThat(running).isInstanceOf(StageState.Running.class);

    // Worker 0 done, its pod not seen yet, a helper's Job gone: never started again.
    var zeroDone =
        WorkerStates.observe(
            List.of(
                worker(0, "Complete"),
                new WorkerStates.Worker(1, null, List.of()),
                worker(2, "Complete")),
            3,
            FineTuneResult.class,
            NOW);
    assertThat(zeroDone).isInstanceOf(StageState.Running.class);
  }

  @Test
  void aFailedWorkerFailsTheSetNamingTheWorkerThatStoppedFirst() {
    // Worker 2 was killed first (out of memory, its Job retrying); worker 0 then lost contact,
    // and its Job gave up first.
    var failed =
        WorkerStates.observe(
            List.of(
                worker(
                    0, "Failed", pod("Failed", "lost contact with the other workers", "10:02:00")),
                worker(1, null),
                worker(2, null, pod("Failed", null, "10:01:00"))),
            3,
            FineTuneResult.class,
            NOW);

    assertThat(failed)
        .isInstanceOfSatisfying(
            StageState.Failed.class,
            f ->
                assertThat(f.message())
                    .startsWith("worker 2 of 3 stopped first: OOMKilled (exit code 137, pod p-2)")
                    .contains("then worker 0 of 3: lost contact with the other workers")
                    .contains("BackoffLimitExceeded"));

    var alone =
        WorkerStates.observe(
            List.of(
                worker(0, null),
                worker(1, "Failed", pod("Failed", "no space left on device", "10:01:00")),
                worker(2, null)),
            3,
            FineTuneResult.class,
            NOW);
    assertThat(((StageState.Failed) alone).message())
        .startsWith("worker 1 of 3: no space left on device");
  }

  private List<Job> jobs() {
    return StageJobs.forStage(
        StageContext.of(model, revision),
        revision,
        Stage.FINETUNE,
        new GpuPlacement.OnCpu(),
        settings());
  }

  private static JobSettings settings() {
    return new JobSettings("sparserollout/sparsify:test", 2, Duration.ofHours(2));
  }

  private static String finetuned() {
    return StageResults.json(
        new FineTuneResult("/mnt/artifacts/f.onnx", null, 10, 0.9, 0.95, 12.0, "2".repeat(64)));
  }

  private static PersistentVolumeClaim claim(String name, String mode) {
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withAccessModes(mode)
        .endSpec()
        .build();
  }

  private static WorkerStates.Worker worker(int rank, String condition, Pod... pods) {
    var job = new JobBuilder().withNewMetadata().withName("j-" + rank).endMetadata();
    if (condition != null) {
      job.withNewStatus()
          .addNewCondition()
          .withType(condition)
          .withStatus("True")
          .withReason(condition.equals("Failed") ? "BackoffLimitExceeded" : null)
          .withMessage(condition.equals("Failed") ? "Job has reached the backoff limit" : null)
          .endCondition()
          .withCompletionTime(condition.equals("Complete") ? "2026-12-06T03:59:00Z" : null)
          .endStatus();
    }
    List<Pod> named =
        java.util.stream.IntStream.range(0, pods.length)
            .mapToObj(
                i -> {
                  pods[i].getMetadata().setName("p-" + rank);
                  return pods[i];
                })
            .toList();
    return new WorkerStates.Worker(rank, job.build(), named);
  }

  private static Pod pod(String phase, String message, String finished) {
    boolean failed = phase.equals("Failed");
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withCreationTimestamp("2026-12-06T" + finished + "Z")
        .endMetadata()
        .withNewStatus()
        .withPhase(phase)
        .addNewContainerStatus()
        .withName("sparsify")
        .withNewState()
        .withNewTerminated()
        .withExitCode(failed && message == null ? 137 : failed ? 2 : 0)
        .withReason(failed && message == null ? "OOMKilled" : null)
        .withMessage(message)
        .withFinishedAt("2026-12-06T" + finished + "Z")
        .endTerminated()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }
}
