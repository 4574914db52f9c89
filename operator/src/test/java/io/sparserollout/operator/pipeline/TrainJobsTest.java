package io.sparserollout.operator.pipeline;

import static io.sparserollout.operator.GenericFields.list;
import static io.sparserollout.operator.GenericFields.map;
import static io.sparserollout.operator.GenericFields.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.placement.GpuPlacement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainJobsTest {
  private final SparseModel model =
      Fixtures.minilm(
          spec -> {
            spec.with("sparsity").put("method", "finetune");
            spec.with("fineTuning").put("workers", 2).with("trainJob");
          });
  private final String revision = Revision.of(model.getSpec());
  private final JobSettings settings =
      new JobSettings("sparserollout/sparsify:test", 2, Duration.ofHours(24));

  @Test
  void theTrainJobRunsTheContainerTheOperatorsJobWouldOnTwoNodesOfTheTorchRuntime() {
    GenericKubernetesResource trainJob = build(new GpuPlacement.OnCpu());
    Job same =
        StageJobs.build(
            model,
            revision,
            Stage.FINETUNE,
            StageHandler.of(Stage.FINETUNE).args(StageContext.of(model, revision)),
            new GpuPlacement.OnCpu(),
            settings);
    var container = same.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(trainJob.getApiVersion()).isEqualTo("trainer.kubeflow.org/v1alpha1");
    assertThat(trainJob.getKind()).isEqualTo("TrainJob");
    assertThat(trainJob.getMetadata().getName()).isEqualTo("minilm-cpu-" + revision + "-finetune");
    assertThat(trainJob.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("SparseModel"));
    assertThat(trainJob.getMetadata().getLabels())
        .containsEntry(StageJobs.STAGE_LABEL, "finetune")
        .containsEntry(StageJobs.REVISION_LABEL, revision);
    assertThat(path(trainJob, "spec", "runtimeRef"))
        .isEqualTo(
            Map.of(
                "name", "torch-distributed",
                "apiGroup", "trainer.kubeflow.org",
                "kind", "ClusterTrainingRuntime"));
    assertThat(path(trainJob, "spec", "activeDeadlineSeconds")).isEqualTo(86400L);

    Map<String, Object> trainer = map(path(trainJob, "spec", "trainer"));
    assertThat(trainer)
        .containsEntry("image", "sparserollout/sparsify:test")
        .containsEntry("numNodes", 2)
        .containsEntry("numProcPerNode", 1);
    // Trainer tells each worker who it is (PET_*); the count is the same on every node, so a
    // runtime that does not say fails loudly instead of running whole fine-tunes side by side.
    List<Object> expected = new java.util.ArrayList<>(container.getArgs());
    expected.addAll(List.of("--workers", "2"));
    assertThat(list(trainer.get("args"))).isEqualTo(expected).doesNotContain("--rank", "--master");
    // Trainer's CEL rule on the name (the 1.20 test API server does not run it).
    assertThat(trainJob.getMetadata().getName())
        .matches("^[a-z]([-a-z0-9]*[a-z0-9])?$")
        .hasSizeLessThanOrEqualTo(63);
    assertThat(trainJob.getMetadata().getLabels()).doesNotContainKey(TrainJobs.QUEUE_NAME);
    assertThat(list(trainer.get("env")))
        .extracting(e -> map(e).get("name"))
        .containsExactly(container.getEnv().stream().map(e -> (Object) e.getName()).toArray());
    assertThat(map(trainer.get("resourcesPerNode"))).containsKeys("requests", "limits");

    Map<String, Object> patch = map(list(path(trainJob, "spec", "runtimePatches")).get(0));
    assertThat(patch.get("manager")).isEqualTo("sparserollout.io/operator");
    Map<String, Object> node =
        map(list(path(patch, "trainingRuntimeSpec", "template", "spec", "replicatedJobs")).get(0));
    assertThat(node.get("name")).isEqualTo("node");
    // The node Job and its pods carry the stage's labels: the operator's informers see them.
    assertThat(path(node, "template", "metadata", "labels"))
        .isEqualTo(StageJobs.labels(model, revision, Stage.FINETUNE));
    assertThat(path(node, "template", "spec", "template", "metadata", "labels"))
        .isEqualTo(StageJobs.labels(model, revision, Stage.FINETUNE));
    Map<String, Object> pod = map(path(node, "template", "spec", "template", "spec"));
    assertThat(list(pod.get("volumes")))
        .hasSize(same.getSpec().getTemplate().getSpec().getVolumes().size());
    assertThat(map(pod.get("securityContext"))).containsEntry("runAsNonRoot", true);
    Map<String, Object> nodeContainer = map(list(pod.get("containers")).get(0));
    assertThat(nodeContainer.get("name")).isEqualTo("node");
    assertThat(list(nodeContainer.get("volumeMounts"))).isNotEmpty();
    assertThat(map(nodeContainer.get("securityContext")))
        .containsEntry("allowPrivilegeEscalation", false);
    assertThat(pod).doesNotContainKeys("nodeSelector", "tolerations");
  }

  @Test
  void gpuWorkersArePlacedByThePatchAndAskForTheGpuPerNode() {
    GenericKubernetesResource trainJob =
        build(GpuPlacement.servingOn("NVIDIA-A100-SXM4-80GB", "nvidia.com/gpu"));
    Map<String, Object> pod =
        map(
            path(
                map(list(path(trainJob, "spec", "runtimePatches")).get(0)),
                "trainingRuntimeSpec",
                "template",
                "spec"));
    Map<String, Object> nodePod =
        map(
            path(
                map(list(pod.get("replicatedJobs")).get(0)),
                "template",
                "spec",
                "template",
                "spec"));
    assertThat(nodePod.get("nodeSelector"))
        .isEqualTo(Map.of("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB"));
    assertThat(list(nodePod.get("tolerations"))).hasSize(1);
    assertThat(path(trainJob, "spec", "trainer", "resourcesPerNode", "limits"))
        .satisfies(limits -> assertThat(map(limits)).containsEntry("nvidia.com/gpu", "1"));
  }

  @Test
  void aLongNameIsCutSoJobSetsPodHostnamesFitAndNamedRuntimesAreReferred() {
    SparseModel long_ =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning")
                  .with("trainJob")
                  .put("runtime", "acme-torch")
                  .put("runtimeKind", "TrainingRuntime");
            });
    long_.getMetadata().setName("a".repeat(60));
    String name = TrainJobs.name(long_, revision);
    assertThat(name.length()).isLessThanOrEqualTo(53);
    assertThat((name + "-node-0-63").length()).isLessThanOrEqualTo(63);
    assertThat(name).startsWith("aaa").endsWith("-" + revision + "-finetune");
    GenericKubernetesResource trainJob =
        TrainJobs.build(long_, revision, List.of("finetune"), new GpuPlacement.OnCpu(), settings);
    assertThat(path(trainJob, "spec", "runtimeRef"))
        .isEqualTo(
            Map.of(
                "name",
                "acme-torch",
                "apiGroup",
                "trainer.kubeflow.org",
                "kind",
                "TrainingRuntime"));
    assertThat(path(trainJob, "spec", "trainer", "numNodes")).isEqualTo(1);
    assertThat(list(path(trainJob, "spec", "trainer", "args"))).doesNotContain("--workers");
  }

  @Test
  void aQueueNameSubmitsTheTrainJobToThatKueueQueue() {
    SparseModel queued =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").with("trainJob").put("queueName", "training");
            });
    assertThat(
            TrainJobs.build(
                    queued, revision, List.of("finetune"), new GpuPlacement.OnCpu(), settings)
                .getMetadata()
                .getLabels())
        .containsEntry("kueue.x-k8s.io/queue-name", "training");
  }

  @Test
  void anOlderTrainersSchemaThatDroppedTheRuntimePatchIsSeen() {
    GenericKubernetesResource built = build(new GpuPlacement.OnCpu());
    assertThat(TrainJobs.dropped(built)).isNull();
    map(built.getAdditionalProperties().get("spec")).remove("runtimePatches");
    assertThat(TrainJobs.dropped(built)).isEqualTo("spec.runtimePatches");
  }

  @Test
  void onlyAJobSetOwnedByTheTrainJobMakesItsNodeJob() {
    String name = TrainJobs.name(model, revision);
    Job job = nodeJob(name, "node", "JobSet", name, true);
    GenericKubernetesResource trainJob = owned("TrainJob", "trainjob-uid", null);
    assertThat(TrainJobs.madeBy(job, owned("JobSet", "jobset-uid", "trainjob-uid"), trainJob))
        .isTrue();
    assertThat(TrainJobs.madeBy(job, owned("JobSet", "other-uid", "trainjob-uid"), trainJob))
        .as("a look-alike Job controlled by another JobSet")
        .isFalse();
    assertThat(TrainJobs.madeBy(job, owned("JobSet", "jobset-uid", "someone-else"), trainJob))
        .as("a JobSet of that name that is not the TrainJob's")
        .isFalse();
    assertThat(TrainJobs.madeBy(job, null, trainJob)).isFalse();
  }

  private static GenericKubernetesResource owned(String kind, String uid, String ownerUid) {
    var builder =
        new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
            .withKind(kind)
            .withNewMetadata()
            .withName("x")
            .withUid(uid);
    if (ownerUid != null) {
      builder =
          builder
              .addNewOwnerReference()
              .withKind("TrainJob")
              .withName("x")
              .withUid(ownerUid)
              .withController(true)
              .endOwnerReference();
    }
    return builder.endMetadata().build();
  }

  @Test
  void onlyTheNodeJobOfThisRevisionsJobSetRunsForTheModel() {
    String name = TrainJobs.name(model, revision);
    assertThat(TrainJobs.runsFor(nodeJob(name, "node", "JobSet", name, true), model, revision))
        .isTrue();
    assertThat(TrainJobs.runsFor(nodeJob(name, "node", "JobSet", name, false), model, revision))
        .as("not its controller")
        .isFalse();
    assertThat(TrainJobs.runsFor(nodeJob(name, "node", "JobSet", "other", true), model, revision))
        .as("another JobSet")
        .isFalse();
    assertThat(
            TrainJobs.runsFor(nodeJob(name, "initializer", "JobSet", name, true), model, revision))
        .as("another replicated job")
        .isFalse();
    assertThat(TrainJobs.runsFor(nodeJob(name, "node", "JobSet", name, true), model, "0000000000"))
        .as("another revision")
        .isFalse();
  }

  static Job nodeJob(
      String jobSet, String replicated, String ownerKind, String owner, boolean controller) {
    return new JobBuilder()
        .withNewMetadata()
        .withName(jobSet + "-" + replicated + "-0")
        .withLabels(Map.of(TrainJobs.JOBSET_NAME, jobSet, TrainJobs.REPLICATED_JOB, replicated))
        .addNewOwnerReference()
        .withApiVersion("jobset.x-k8s.io/v1alpha2")
        .withKind(ownerKind)
        .withName(owner)
        .withUid("jobset-uid")
        .withController(controller)
        .endOwnerReference()
        .endMetadata()
        .build();
  }

  private GenericKubernetesResource build(GpuPlacement.Decision placement) {
    return TrainJobs.build(
        model,
        revision,
        StageHandler.of(Stage.FINETUNE).args(StageContext.of(model, revision)),
        placement,
        settings);
  }
}
