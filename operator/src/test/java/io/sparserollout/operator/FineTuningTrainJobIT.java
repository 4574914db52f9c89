package io.sparserollout.operator;

import static io.sparserollout.operator.GenericFields.list;
import static io.sparserollout.operator.GenericFields.map;
import static io.sparserollout.operator.GenericFields.path;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.StageHandler;
import io.sparserollout.operator.pipeline.TrainJobs;
import io.sparserollout.stage.FineTuneResult;
import io.sparserollout.testing.PodStatuses;
import io.sparserollout.testing.TestKubelet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fine-tuning run by Kubeflow Trainer ({@code spec.fineTuning.trainJob}) on a real kube-apiserver
 * with Trainer 2.3.0's real TrainJob CRD, whose schema prunes any field it does not define. The
 * test plays Trainer and JobSet (a JobSet named as the TrainJob, its node Job with a pod per
 * worker, the TrainJob's conditions) and the kubelet; the Job controller is the real one.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FineTuningTrainJobIT {
  private static final String TRAINJOB_CRD = "trainjobs.trainer.kubeflow.org";
  private static final String FINETUNED =
      StageResults.json(
          new FineTuneResult(
              "/mnt/artifacts/finetuned.onnx", null, 100, 0.90, 0.95, 60.0, "2".repeat(64)));

  private TestNamespace ns;
  private KubernetesClient admin;
  private String namespace;

  @BeforeEach
  void connect(org.junit.jupiter.api.TestInfo test) {
    ns = TestNamespace.forTest(test);
    admin = ns.admin();
    namespace = ns.name();
  }

  @AfterEach
  void disconnect() {
    ns.close();
  }

  @Test
  @Order(1)
  void aTrainJobRunsTheWorkersOnceTrainerIsInstalledAndWorkerZerosResultMovesThePipelineOn() {
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    String name = TrainJobs.name(model, revision);
    new TestKubelet(admin)
        .succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

    // No Trainer in the cluster: the model waits, saying what to install, and no Job runs.
    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.reason()).isEqualTo("TrainerNotInstalled");
          assertThat(c.message()).contains("install Kubeflow Trainer 2.2 or newer");
        });
    ns.awaitReasons(model, "StageBlocked");
    assertThat(admin.batch().v1().jobs().inNamespace(namespace).withName(name).get()).isNull();

    installCrd(TRAINJOB_CRD, "/trainer.kubeflow.org_trainjobs.yaml");
    installCrd("jobsets.jobset.x-k8s.io", "/jobset-crd.yaml");
    ns.annotate(model, "sparserollout.io/poke", "1");
    GenericKubernetesResource trainJob = awaitTrainJob(name);

    // What the operator wrote survived the real schema whole: nothing it set was pruned.
    SparseModel current = ns.get(model);
    GenericKubernetesResource desired =
        TrainJobs.build(
            current,
            revision,
            StageHandler.of(Stage.FINETUNE)
                .args(StageContext.of(current, revision, current.getStatus())),
            new io.sparserollout.operator.placement.GpuPlacement.OnCpu(),
            new io.sparserollout.operator.pipeline.JobSettings(
                trainer(trainJob).get("image").toString(), 2, Duration.ofHours(24)));
    Map<String, Object> written = map(desired.getAdditionalProperties().get("spec"));
    written.remove("activeDeadlineSeconds"); // the operator's setting, not this test's
    assertContains("spec", written, trainJob.getAdditionalProperties().get("spec"));
    assertThat(((Number) path(trainJob, "spec", "activeDeadlineSeconds")).longValue()).isPositive();
    assertThat(trainer(trainJob)).containsEntry("numNodes", 2).containsEntry("numProcPerNode", 1);
    assertThat(trainJob.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(model.getMetadata().getUid()));
    // Only the set's own pods may reach the workers; the policy goes with the TrainJob.
    var isolation =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    admin
                        .network()
                        .v1()
                        .networkPolicies()
                        .inNamespace(namespace)
                        .withName(TestNamespace.job(model, revision, "finetune"))
                        .get(),
                p -> p != null);
    assertThat(isolation.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("sparserollout.io/stage", "finetune");
    assertThat(isolation.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("TrainJob");
              assertThat(o.getUid()).isEqualTo(trainJob.getMetadata().getUid());
            });
    // Deleted by hand while the TrainJob runs, it comes back.
    var policies = admin.network().v1().networkPolicies().inNamespace(namespace);
    policies.withName(isolation.getMetadata().getName()).delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> policies.withName(isolation.getMetadata().getName()).get(),
            p -> p != null && !p.getMetadata().getUid().equals(isolation.getMetadata().getUid()));
    ns.awaitEvents(
        model,
        events ->
            assertThat(events)
                .anySatisfy(
                    e ->
                        assertThat(e.getMessage())
                            .isEqualTo(
                                "stage finetune: TrainJob "
                                    + name
                                    + " (2 workers, runtime torch-distributed)")));

    // Trainer's part: the JobSet, and its node Job whose pods are the workers.
    Job node = startWorkers(trainJob, 2);
    List<Pod> workers = awaitPods(node, 2);
    finish(workers.get(1), 0, "");
    finish(workers.get(0), 0, FINETUNED);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin
                    .batch()
                    .v1()
                    .jobs()
                    .inNamespace(namespace)
                    .withName(node.getMetadata().getName())
                    .get(),
            j ->
                j.getStatus() != null
                    && j.getStatus().getSucceeded() != null
                    && j.getStatus().getSucceeded() == 2);
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.FINE_TUNING);
    double finetunesTimed = finetunesTimed("succeeded");
    condition(trainJob, "Complete", "AllJobsCompleted", "jobset completed successfully");

    ns.awaitJob(TestNamespace.job(model, revision, "engine"));
    // The reconcile that starts the engine Job writes the result to status as it ends.
    SparseModel tuned =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> ns.get(model), m -> m.getStatus().getPruning().fineTuning() != null);
    assertThat(tuned.getStatus().getPruning().fineTuning().finalFidelity()).isEqualTo(0.95);
    assertThat(tuned.getStatus().getConditions()).noneMatch(c -> c.type().equals("StageBlocked"));
    // The stage's wall time is the node Job's, though the Job is Trainer's, not the model's.
    assertThat(finetunesTimed("succeeded")).isEqualTo(finetunesTimed + 1);
  }

  /** How many fine-tune stages of an outcome sparserollout_stage_duration_seconds has counted. */
  private static double finetunesTimed(String outcome) {
    var count =
        java.util.regex.Pattern.compile(
                "(?m)^sparserollout_stage_duration_seconds_count"
                    + "\\{outcome=\""
                    + outcome
                    + "\",stage=\"finetune\"} (\\S+)$")
            .matcher(io.restassured.RestAssured.get("/q/metrics").asString());
    return count.find() ? Double.parseDouble(count.group(1)) : 0;
  }

  @Test
  @Order(2)
  void aFailedTrainJobFailsTheStageWithTrainersReasonAndTheWorkersMessage() {
    installCrd(TRAINJOB_CRD, "/trainer.kubeflow.org_trainjobs.yaml");
    installCrd("jobsets.jobset.x-k8s.io", "/jobset-crd.yaml");
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    new TestKubelet(admin)
        .succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);
    GenericKubernetesResource trainJob = awaitTrainJob(TrainJobs.name(model, revision));
    Job node = startWorkers(trainJob, 2);
    List<Pod> workers = awaitPods(node, 2);
    finish(workers.get(1), 1, "sparsify finetune: java.lang.OutOfMemoryError: Java heap space");
    double failuresTimed = finetunesTimed("failed");
    condition(trainJob, "Failed", "FailedJobs", "jobset failed due to one or more job failures");

    SparseModel failed = ns.awaitPhase(model, Phase.FAILED);
    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .startsWith(
                        "stage finetune failed: TrainJob "
                            + trainJob.getMetadata().getName()
                            + " failed: FailedJobs: jobset failed due to one or more job failures")
                    .contains("java.lang.OutOfMemoryError: Java heap space"));
    ns.awaitReasons(model, "StageFailed");
    assertThat(finetunesTimed("failed")).isEqualTo(failuresTimed + 1);
  }

  @Test
  @Order(3)
  void aRuntimeTheOperatorIsNotAllowedToUseBlocksTheStageBeforeAnyTrainJob() {
    installCrd(TRAINJOB_CRD, "/trainer.kubeflow.org_trainjobs.yaml");
    SparseModel model =
        ns.create(
            "minilm",
            spec -> {
              spec.with("rollout").put("replicas", 0);
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").with("trainJob").put("runtime", "privileged-torch");
            });
    String revision = Revision.of(model.getSpec());
    new TestKubelet(admin)
        .succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.reason()).isEqualTo("RuntimeNotAllowed");
          assertThat(c.message())
              .contains(
                  "ClusterTrainingRuntime/privileged-torch, which is not among the runtimes this"
                      + " operator may use")
              .contains("torch-distributed");
        });
    // The allowed name as a namespace's own TrainingRuntime, which its users may write: refused.
    SparseModel namespaced =
        ns.create(
            "local",
            spec -> {
              spec.with("rollout").put("replicas", 0);
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning")
                  .with("trainJob")
                  .put("runtime", "torch-distributed")
                  .put("runtimeKind", "TrainingRuntime");
            });
    new TestKubelet(admin)
        .succeed(
            namespace,
            TestNamespace.job(namespaced, Revision.of(namespaced.getSpec()), "prune"),
            StageResults.PRUNED);
    ns.awaitCondition(
        namespaced,
        "StageBlocked",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.reason()).isEqualTo("RuntimeNotAllowed");
          assertThat(c.message()).contains("TrainingRuntime/torch-distributed, which is not");
        });
    assertThat(
            admin
                .genericKubernetesResources(TrainJobs.API_VERSION, TrainJobs.KIND)
                .inNamespace(namespace)
                .list()
                .getItems())
        .isEmpty();
  }

  private SparseModel create() {
    return ns.create(
        "minilm",
        spec -> {
          spec.with("rollout").put("replicas", 0);
          spec.with("sparsity").put("method", "finetune");
          spec.with("fineTuning")
              .put("workers", 2)
              .put("steps", 100)
              .put("batchSize", 16)
              .with("trainJob");
        });
  }

  private GenericKubernetesResource awaitTrainJob(String name) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                admin
                    .genericKubernetesResources(TrainJobs.API_VERSION, TrainJobs.KIND)
                    .inNamespace(namespace)
                    .withName(name)
                    .get(),
            t -> t != null);
  }

  /**
   * As Trainer and JobSet would: a JobSet named as the TrainJob and owned by it, and its node Job
   * (indexed in Kubernetes 1.21 and later; the test marks each pod's index itself) running the
   * trainer's container with the runtime patch's labels and torchrun's variables.
   */
  private Job startWorkers(GenericKubernetesResource trainJob, int workers) {
    String name = trainJob.getMetadata().getName();
    GenericKubernetesResource jobSet =
        admin
            .genericKubernetesResources("jobset.x-k8s.io/v1alpha2", "JobSet")
            .inNamespace(namespace)
            .resource(
                new GenericKubernetesResourceBuilder()
                    .withApiVersion("jobset.x-k8s.io/v1alpha2")
                    .withKind("JobSet")
                    .withNewMetadata()
                    .withName(name)
                    .withOwnerReferences(controller(trainJob))
                    .endMetadata()
                    .withAdditionalProperties(Map.of("spec", Map.of()))
                    .build())
            .create();
    Map<String, Object> trainer = trainer(trainJob);
    Map<String, Object> nodeJob =
        map(
            list(path(
                    map(list(path(trainJob, "spec", "runtimePatches")).get(0)),
                    "trainingRuntimeSpec",
                    "template",
                    "spec",
                    "replicatedJobs"))
                .get(0));
    @SuppressWarnings("unchecked")
    Map<String, String> jobLabels =
        new LinkedHashMap<>((Map<String, String>) path(nodeJob, "template", "metadata", "labels"));
    @SuppressWarnings("unchecked")
    Map<String, String> podLabels =
        new LinkedHashMap<>(
            (Map<String, String>)
                path(nodeJob, "template", "spec", "template", "metadata", "labels"));
    for (Map<String, String> labels : List.of(jobLabels, podLabels)) {
      labels.put(TrainJobs.JOBSET_NAME, name);
      labels.put(TrainJobs.REPLICATED_JOB, TrainJobs.NODE);
    }
    List<EnvVar> env = new ArrayList<>();
    for (Object e : list(trainer.get("env"))) {
      env.add(Serialization.jsonMapper().convertValue(e, EnvVar.class));
    }
    env.add(new EnvVar("PET_NNODES", String.valueOf(workers), null));
    env.add(new EnvVar("PET_MASTER_ADDR", name + "-node-0-0." + name, null));
    env.add(new EnvVar("PET_MASTER_PORT", "29500", null));
    @SuppressWarnings("unchecked")
    List<String> args = (List<String>) trainer.get("args");
    Job job =
        new JobBuilder()
            .withNewMetadata()
            .withName(name + "-node-0")
            .withLabels(jobLabels)
            .withOwnerReferences(controller(jobSet))
            .endMetadata()
            .withNewSpec()
            .withParallelism(workers)
            .withCompletions(workers)
            .withBackoffLimit(0)
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(podLabels)
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName(TrainJobs.NODE)
            .withImage(trainer.get("image").toString())
            .withArgs(args)
            .withEnv(env)
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    return admin.batch().v1().jobs().inNamespace(namespace).resource(job).create();
  }

  /** The Job's pods, each marked with its index as an indexed Job's are. */
  private List<Pod> awaitPods(Job job, int count) {
    List<Pod> pods =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    admin
                        .pods()
                        .inNamespace(namespace)
                        .withLabel("controller-uid", job.getMetadata().getUid())
                        .list()
                        .getItems(),
                p -> p.size() == count);
    List<Pod> indexed = new ArrayList<>();
    for (int index = 0; index < count; index++) {
      String value = String.valueOf(index);
      indexed.add(
          admin
              .pods()
              .inNamespace(namespace)
              .withName(pods.get(index).getMetadata().getName())
              .edit(
                  p -> {
                    Map<String, String> annotations =
                        p.getMetadata().getAnnotations() == null
                            ? new LinkedHashMap<>()
                            : new LinkedHashMap<>(p.getMetadata().getAnnotations());
                    annotations.put(TrainJobs.COMPLETION_INDEX, value);
                    p.getMetadata().setAnnotations(annotations);
                    return p;
                  }));
    }
    return indexed;
  }

  /** The kubelet's part: the worker's container ended with the exit code and message. */
  private void finish(Pod pod, int exitCode, String message) {
    Pod current = admin.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get();
    current.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
    current
        .getStatus()
        .setContainerStatuses(
            List.of(
                PodStatuses.terminated(
                    current.getSpec().getContainers().get(0),
                    exitCode,
                    message,
                    PodStatuses.now())));
    admin.pods().inNamespace(namespace).resource(current).updateStatus();
  }

  /** Trainer's part: the TrainJob's condition, as it copies its JobSet's. */
  private void condition(
      GenericKubernetesResource trainJob, String type, String reason, String message) {
    var resources =
        admin
            .genericKubernetesResources(TrainJobs.API_VERSION, TrainJobs.KIND)
            .inNamespace(namespace);
    GenericKubernetesResource current = resources.withName(trainJob.getMetadata().getName()).get();
    current.setAdditionalProperty(
        "status",
        Map.of(
            "conditions",
            List.of(
                Map.of(
                    "type", type,
                    "status", "True",
                    "reason", reason,
                    "message", message,
                    "lastTransitionTime", PodStatuses.now()))));
    resources.resource(current).updateStatus();
  }

  private static OwnerReference controller(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(false)
        .build();
  }

  private void installCrd(String name, String resource) {
    Crds.install(admin, name, resource);
  }

  /** Every key {@code expected} has, {@code actual} has with the same value, at every depth. */
  private static void assertContains(String where, Object expected, Object actual) {
    if (expected instanceof Map<?, ?> wanted) {
      assertThat(actual).as(where).isInstanceOf(Map.class);
      Map<?, ?> found = (Map<?, ?>) actual;
      wanted.forEach(
          (key, value) -> {
            assertThat(found.containsKey(key)).as(where + "." + key + " kept").isTrue();
            assertContains(where + "." + key, value, found.get(key));
          });
    } else if (expected instanceof List<?> wanted) {
      assertThat(actual).as(where).isInstanceOf(List.class);
      List<?> found = (List<?>) actual;
      assertThat(found).as(where).hasSameSizeAs(wanted);
      for (int i = 0; i < wanted.size(); i++) {
        assertContains(where + "[" + i + "]", wanted.get(i), found.get(i));
      }
    } else if (expected instanceof Number number) {
      assertThat(((Number) actual).doubleValue()).as(where).isEqualTo(number.doubleValue());
    } else {
      assertThat(actual).as(where).isEqualTo(expected);
    }
  }

  private static Map<String, Object> trainer(GenericKubernetesResource trainJob) {
    return map(path(trainJob, "spec", "trainer"));
  }
}
