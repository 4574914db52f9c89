package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.stage.FineTuneResult;
import io.sparserollout.testing.TestKubelet;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fine-tuning by several workers on a real kube-apiserver and kube-controller-manager: a Job per
 * worker and worker 0's rendezvous Service; the test plays the kubelet for every worker's pod.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class FineTuningWorkersIT {
  private static final String FINETUNED =
      StageResults.json(
          new FineTuneResult(
              "/mnt/artifacts/finetuned.onnx", null, 100, 0.90, 0.95, 60.0, "2".repeat(64)));

  private TestNamespace ns;
  private KubernetesClient admin;
  private TestKubelet kubelet;
  private String namespace;

  @BeforeEach
  void connect(org.junit.jupiter.api.TestInfo test) {
    ns = TestNamespace.forTest(test);
    admin = ns.admin();
    kubelet = ns.kubelet();
    namespace = ns.name();
  }

  @AfterEach
  void disconnect() {
    ns.close();
  }

  @Test
  void twoWorkersRunAsTwoJobsMeetingAtWorkerZerosServiceAndWorkerZeroReports() {
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    String stage = TestNamespace.job(model, revision, "finetune");
    kubelet.succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

    Job zero = ns.awaitJob(stage);
    Job one = ns.awaitJob(stage + "-1");
    Service rendezvous = awaitService(stage);
    assertThat(rendezvous.getSpec().getSelector()).containsEntry("sparserollout.io/worker", "0");
    assertThat(rendezvous.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(zero.getMetadata().getUid()));
    assertThat(one.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsSubsequence(
            "--workers", "2", "--rank", "1", "--master", stage + "." + namespace + ".svc:29500");
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.FINE_TUNING);
    var isolation =
        admin.network().v1().networkPolicies().inNamespace(namespace).withName(stage).get();
    assertThat(isolation.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("sparserollout.io/stage", "finetune");
    assertThat(isolation.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(zero.getMetadata().getUid()));

    // Deleted by hand while the workers run, the rendezvous comes back.
    admin.services().inNamespace(namespace).withName(stage).delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Service back = admin.services().inNamespace(namespace).withName(stage).get();
              return back != null
                  && !back.getMetadata().getUid().equals(rendezvous.getMetadata().getUid());
            });

    kubelet.succeed(namespace, stage + "-1", "");
    kubelet.succeed(namespace, stage, FINETUNED);
    ns.awaitJob(TestNamespace.job(model, revision, "engine"));

    // The reconcile that starts the engine Job writes the result to status as it ends.
    SparseModel tuned =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> ns.get(model), m -> m.getStatus().getPruning().fineTuning() != null);
    assertThat(tuned.getStatus().getPruning().fineTuning().finalFidelity()).isEqualTo(0.95);
    assertThat(ns.events(model))
        .anySatisfy(
            e ->
                assertThat(e.getMessage())
                    .isEqualTo("stage finetune: 2 workers, Jobs " + stage + ", " + stage + "-1"));
  }

  @Test
  void aWorkerThatFailsFailsTheStageByItsMessageAndTheOthersAreStopped() {
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    String stage = TestNamespace.job(model, revision, "finetune");
    kubelet.succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);
    ns.awaitJob(stage);
    String error = "sparsify finetune: java.lang.OutOfMemoryError: Java heap space";

    kubelet.fail(namespace, stage + "-1", error);
    kubelet.fail(namespace, stage + "-1", error); // its Job's retry (backoffLimit 1 in tests)
    SparseModel failed = ns.awaitPhase(model, Phase.FAILED);

    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .startsWith("stage finetune failed: worker 1 of 2: " + error)
                    .contains("BackoffLimitExceeded"));
    ns.awaitReasons(model, "StageFailed"); // the event follows the status by a moment
    // Worker 0 would only wait for a worker that is gone: its Job goes; the failed one stays.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> admin.batch().v1().jobs().inNamespace(namespace).withName(stage).get() == null);
    assertThat(admin.batch().v1().jobs().inNamespace(namespace).withName(stage + "-1").get())
        .isNotNull();
  }

  @Test
  void aClaimOnlyOneNodeCanMountBlocksTheWorkersWithTheReason() {
    admin
        .persistentVolumeClaims()
        .inNamespace(namespace)
        .resource(
            new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("artifacts")
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withNewResources()
                .addToRequests("storage", new Quantity("1Gi"))
                .endResources()
                .endSpec()
                .build())
        .create();
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    kubelet.succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(ns.get(model).getStatus().getConditions())
                    .filteredOn(c -> c.type().equals("StageBlocked"))
                    .singleElement()
                    .satisfies(
                        c -> {
                          assertThat(c.reason()).isEqualTo("ClaimNotShared");
                          assertThat(c.message())
                              .contains("claim artifacts is ReadWriteOnce")
                              .contains("workers on different nodes cannot all mount it");
                        }));
    ns.awaitReasons(model, "StageBlocked");
    assertThat(
            admin
                .batch()
                .v1()
                .jobs()
                .inNamespace(namespace)
                .withName(TestNamespace.job(model, revision, "finetune"))
                .get())
        .isNull();
  }

  @Test
  void aWorkerWhosePodTheClusterRefusesIsStageBlockedNamingItsJob() {
    // Room for one pod: the prune pod, then one of the two workers; the other is refused.
    admin
        .resourceQuotas()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.ResourceQuotaBuilder()
                .withNewMetadata()
                .withName("one-pod")
                .endMetadata()
                .withNewSpec()
                .addToHard("pods", new Quantity("1"))
                .endSpec()
                .build())
        .create();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              var quota = admin.resourceQuotas().inNamespace(namespace).withName("one-pod").get();
              return quota.getStatus() != null && quota.getStatus().getHard() != null;
            });
    SparseModel model = create();
    String revision = Revision.of(model.getSpec());
    String stage = TestNamespace.job(model, revision, "finetune");
    kubelet.succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);
    ns.awaitJob(stage + "-1");

    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(90),
        c -> {
          assertThat(c.reason()).isEqualTo("FailedCreate");
          assertThat(c.message())
              .matches("stage finetune \\(Job " + stage + "(-1)?\\) cannot run: .*")
              .contains("quota");
        });
  }

  /**
   * Worker 0's pod serves its progress over HTTP (a server on a loopback address stands in for the
   * pod's); the operator shows it in status while the stage runs, and drops it after.
   */
  @Test
  void worker0sProgressIsShownInStatusWhileTheStageRuns() throws Exception {
    var served =
        new java.util.concurrent.atomic.AtomicReference<>(
            "{\"stage\":\"finetune\",\"step\":40,\"steps\":100,\"heldOutFidelity\":0.93128,"
                + "\"seconds\":50.0,\"secondsLeft\":75.2}");
    var pod =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress("127.0.0.2", 8080), 4);
    pod.createContext(
        "/progress",
        exchange -> {
          byte[] body = served.get().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (var out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    pod.start();
    try {
      SparseModel model = create();
      String revision = Revision.of(model.getSpec());
      String stage = TestNamespace.job(model, revision, "finetune");
      kubelet.succeed(namespace, TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);
      ns.awaitJob(stage);
      var zero =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      admin
                          .pods()
                          .inNamespace(namespace)
                          .withLabel("job-name", stage)
                          .list()
                          .getItems(),
                  pods -> !pods.isEmpty())
              .get(0);
      kubelet.running(zero, "127.0.0.2");

      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(ns.get(model).getStatus().getProgress())
                      .isEqualTo(
                          new io.sparserollout.api.v1alpha1.StageProgressStatus(
                              "finetune", 40, 100, 0.9313, 75L)));

      // What status cannot show is left out: the last sensible answer stays, over several reads.
      served.set("{\"stage\":\"finetune\",\"step\":400,\"steps\":100}");
      await()
          .during(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> assertThat(ns.get(model).getStatus().getProgress().step()).isEqualTo(40));

      kubelet.succeed(namespace, stage + "-1", "");
      var ended = admin.pods().inNamespace(namespace).withName(zero.getMetadata().getName()).get();
      ended.getStatus().setPhase("Succeeded");
      ended
          .getStatus()
          .setContainerStatuses(
              java.util.List.of(
                  io.sparserollout.testing.PodStatuses.terminated(
                      ended.getSpec().getContainers().get(0),
                      0,
                      FINETUNED,
                      io.sparserollout.testing.PodStatuses.now())));
      admin.pods().inNamespace(namespace).resource(ended).updateStatus();
      ns.awaitJob(TestNamespace.job(model, revision, "engine"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ns.get(model).getStatus().getProgress() == null);
    } finally {
      pod.stop(0);
    }
  }

  /** SparseGPT then fine-tuning by two workers; the pipeline stops at the gate. */
  private SparseModel create() {
    return ns.create(
        "minilm",
        spec -> {
          spec.with("rollout").put("replicas", 0);
          spec.with("sparsity").put("method", "finetune");
          spec.with("fineTuning").put("workers", 2).put("steps", 100).put("batchSize", 16);
        });
  }

  private Service awaitService(String name) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admin.services().inNamespace(namespace).withName(name).get(), s -> s != null);
  }
}
