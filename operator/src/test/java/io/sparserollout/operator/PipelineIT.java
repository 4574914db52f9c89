package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.PhaseTransition;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.testing.TestKubelet;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline on a real kube-apiserver and kube-controller-manager: the operator creates stage
 * Jobs, the job controller creates pods, and the test plays the kubelet, ending each pod with the
 * result sparsify would print.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class PipelineIT {
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
  void happyPathRunsEveryStageToGatePassedAndThenWritesNothing() throws Exception {
    SparseModel model = create("minilm", spec -> {});
    String revision = Revision.of(model.getSpec());

    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(namespace, job(model, revision, "engine"), StageResults.ENGINE);
    kubelet.succeed(namespace, job(model, revision, "evaluate"), StageResults.EVALUATED_GOOD);
    SparseModel done = awaitPhase(model, Phase.GATE_PASSED);

    assertThat(done.getStatus().getRevision()).isEqualTo(revision);
    assertThat(done.getStatus().getPruning().layersPruned()).isEqualTo(36);
    // This run's folder: the model's uid and when the revision started.
    String run = done.getStatus().getArtifactRun();
    assertThat(run)
        .startsWith(done.getMetadata().getUid().substring(0, 8) + "-")
        .hasSizeBetween(10, 20);
    assertThat(
            ns.admin()
                .batch()
                .v1()
                .jobs()
                .inNamespace(namespace)
                .withName(job(model, revision, "prune"))
                .get()
                .getMetadata()
                .getAnnotations())
        .containsEntry("sparserollout.io/artifact-run", run);
    assertThat(done.getStatus().getPruning().artifactUri())
        .isEqualTo(
            "pvc://artifacts/sparserollout/"
                + namespace
                + "/minilm/"
                + revision
                + "/"
                + run
                + "/pruned.onnx");
    assertThat(done.getStatus().getEngine().speedup()).isEqualTo(1.02);
    assertThat(done.getStatus().getGate().verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(done.getStatus().getGate().sparse()).isEqualTo(0.9037);
    assertThat(done.getStatus().getHistory())
        .extracting(PhaseTransition::phase)
        .containsExactly(
            Phase.PENDING,
            Phase.PRUNING,
            Phase.BUILDING_ENGINE,
            Phase.EVALUATING,
            Phase.GATE_PASSED);
    assertThat(done.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Ready"))
        .singleElement()
        .satisfies(c -> assertThat(c.status()).isEqualTo("True"));
    ns.awaitReasons(model, "RevisionStarted", "StageStarted", "GatePassed");
    String metrics = io.restassured.RestAssured.get("/q/metrics").asString();
    assertThat(metrics)
        .contains("sparserollout_gate_results_total{verdict=\"passed\"}")
        .contains(
            "sparserollout_stage_duration_seconds_count{outcome=\"succeeded\",stage=\"prune\"}")
        .contains("sparserollout_phase_transitions_total{phase=\"gate_passed\"}")
        .contains("sparserollout_events_total{reason=\"GatePassed\",type=\"Normal\"}");
    // Every operator metric the shipped alerts and dashboard use is one the operator exports.
    var used =
        java.util.regex.Pattern.compile("\\bsparserollout_[a-z_]+")
            .matcher(
                java.nio.file.Files.readString(
                        java.nio.file.Path.of("../manifests/monitoring/alerts.rules.yaml"))
                    + java.nio.file.Files.readString(
                        java.nio.file.Path.of("../manifests/monitoring/grafana-dashboard.json")))
            .results()
            .map(java.util.regex.MatchResult::group)
            .distinct()
            .toList();
    assertThat(used).isNotEmpty();
    assertThat(used)
        .allSatisfy(name -> assertThat(metrics).containsPattern("(?m)^" + name + "[{ ]"));

    // Reconciling an unchanged resource writes nothing: its resourceVersion stays put.
    String version = done.getMetadata().getResourceVersion();
    Thread.sleep(3000);
    assertThat(get(model).getMetadata().getResourceVersion()).isEqualTo(version);
    assertThat(done.getStatus().getCompletedStages())
        .extracting(c -> c.stage())
        .containsExactly("prune", "engine", "evaluate");
    // Each model's digest is recorded, and the stages that read the pruned model check it.
    assertThat(done.getStatus().getCompletedStages())
        .extracting(c -> c.sha256())
        .containsExactly(StageResults.PRUNED_SHA256, StageResults.ENGINE_SHA256, null);
    assertThat(done.getStatus().getEngine().sha256()).isEqualTo(StageResults.ENGINE_SHA256);
    for (String stage : List.of("engine", "evaluate")) {
      assertThat(
              admin
                  .batch()
                  .v1()
                  .jobs()
                  .inNamespace(namespace)
                  .withName(job(model, revision, stage))
                  .get()
                  .getSpec()
                  .getTemplate()
                  .getSpec()
                  .getContainers()
                  .get(0)
                  .getArgs())
          .as(stage)
          .containsSubsequence("--expect-sha256", StageResults.PRUNED_SHA256);
    }
  }

  @Test
  void stagePodsGarbageCollectedLongAfterTheirJobsFinishedChangeNothing() throws Exception {
    SparseModel model = create("minilm", spec -> {});
    ns.passPipeline(model, Revision.of(model.getSpec()));
    awaitPhase(model, Phase.GATE_PASSED);

    ns.forgetStagePods(model);

    Thread.sleep(3000);
    SparseModel after = get(model);
    assertThat(after.getStatus().getPhase()).isEqualTo(Phase.GATE_PASSED);
    assertThat(reasons(model)).doesNotContain("StageFailed");
  }

  @Test
  void aModelEvaluatedBeforeItsPlanGainedAStageIsNotRunAgain() throws Exception {
    SparseModel model = create("minilm", spec -> spec.with("quantization").put("mode", "int8-ptq"));
    String revision = Revision.of(model.getSpec());
    String quantized =
        StageResults.json(
            new io.sparserollout.stage.QuantizeResult(
                "q", 36, 24, 99.99, 11, 13, java.util.List.of(), 9.0, "2".repeat(64), null));
    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(namespace, job(model, revision, "quantize"), quantized);
    kubelet.succeed(namespace, job(model, revision, "quantize-dense"), quantized);
    kubelet.succeed(namespace, job(model, revision, "engine"), StageResults.ENGINE);
    kubelet.succeed(namespace, job(model, revision, "evaluate"), StageResults.EVALUATED_GOOD);
    awaitPhase(model, Phase.GATE_PASSED);

    // What an operator from before variants left: the same revision (selection at its defaults),
    // evaluated, with no quantize-dense stage in its plan.
    String dense = job(model, revision, "quantize-dense");
    admin.batch().v1().jobs().inNamespace(namespace).withName(dense).delete();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> admin.batch().v1().jobs().inNamespace(namespace).withName(dense).get() == null);
    admin
        .resources(SparseModel.class)
        .inNamespace(namespace)
        .withName(model.getMetadata().getName())
        .editStatus(
            m -> {
              m.getStatus().getCompletedStages().removeIf(c -> c.stage().equals("quantize-dense"));
              return m;
            });
    // The new operator's first reconcile of it (an annotation wakes it; status alone does not).
    admin
        .resources(SparseModel.class)
        .inNamespace(namespace)
        .withName(model.getMetadata().getName())
        .edit(
            m -> {
              m.getMetadata().getAnnotations().put("example.com/upgraded", "yes");
              return m;
            });

    Thread.sleep(3000);
    assertThat(admin.batch().v1().jobs().inNamespace(namespace).withName(dense).get()).isNull();
    SparseModel after = get(model);
    assertThat(after.getStatus().getPhase()).isEqualTo(Phase.GATE_PASSED);
    assertThat(after.getStatus().getHistory())
        .extracting(PhaseTransition::phase)
        .endsWith(Phase.GATE_PASSED);
  }

  @Test
  void gateFailsWhenTheDropExceedsTheAllowedDrop() {
    SparseModel model = create("minilm", spec -> {});
    String revision = Revision.of(model.getSpec());

    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(namespace, job(model, revision, "engine"), StageResults.ENGINE);
    kubelet.succeed(namespace, job(model, revision, "evaluate"), StageResults.EVALUATED_BAD);
    SparseModel failed = awaitPhase(model, Phase.GATE_FAILED);

    assertThat(failed.getStatus().getGate().drop()).isEqualTo(0.3996);
    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(c -> assertThat(c.message()).contains("absolute drop 0.3996 > allowed 0.1000"));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(events(model))
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("GateFailed");
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getMessage()).contains("0.6004").contains("0.1000");
                        }));
  }

  @Test
  void namedHeldOutSetsReachTheJobAndEachSetsVerdictIsKeptInStatus() {
    SparseModel model =
        create(
            "minilm",
            spec -> {
              var sets = spec.with("evaluation").remove(List.of("dataUri")).putArray("sets");
              sets.addObject()
                  .put("name", "users")
                  .put("dataUri", "pvc://models/data/evaluation.txt");
              sets.addObject().put("name", "legal").put("dataUri", "pvc://models/data/legal.txt");
            });
    String revision = Revision.of(model.getSpec());
    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(namespace, job(model, revision, "engine"), StageResults.ENGINE);

    List<String> args =
        awaitJob(job(model, revision, "evaluate"))
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getArgs();
    assertThat(args)
        .contains(
            "--set=users=/mnt/models/data/evaluation.txt", "--set=legal=/mnt/models/data/legal.txt")
        .doesNotContain("--data");
    var users = StageResults.evaluation(0.9037, 0.665);
    var legal = StageResults.evaluation(0.8402, 0.611);
    kubelet.succeed(
        namespace,
        job(model, revision, "evaluate"),
        StageResults.json(
            new EvaluationResult(
                    300,
                    users.fidelity(),
                    null,
                    null,
                    null,
                    null,
                    null,
                    List.of(
                        new EvaluationResult.SetQuality(
                            "users", 300, users.fidelity(), null, null, null),
                        new EvaluationResult.SetQuality(
                            "legal", 151, legal.fidelity(), null, null, null)))
                .compact()));
    SparseModel failed = awaitPhase(model, Phase.GATE_FAILED);

    // Kept by the API server: the status schema has every field of each set.
    assertThat(failed.getStatus().getGate().sets())
        .containsExactly(
            new GateStatus.SetVerdict("users", 300, 1.0, 0.9037, 0.0963, GateStatus.Verdict.PASSED),
            new GateStatus.SetVerdict(
                "legal", 151, 1.0, 0.8402, 0.1598, GateStatus.Verdict.FAILED));
    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("set legal: cosine-fidelity 0.8402")
                    .contains("1 of 2 sets fail (legal)"));
  }

  @Test
  void aFailingJobIsRetriedThenThePipelineFailsWithItsMessage() {
    SparseModel model = create("minilm", spec -> {});
    String job = job(model, Revision.of(model.getSpec()), "prune");
    String error = "sparsify prune: /mnt/models/all-minilm-l6-v2/model.onnx is not an ONNX model";

    kubelet.fail(namespace, job, error);
    kubelet.fail(namespace, job, error); // the retry (backoffLimit 1 in tests)
    SparseModel failed = awaitPhase(model, Phase.FAILED);

    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("stage prune failed")
                    .contains("is not an ONNX model"));
    assertThat(admin.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems())
        .hasSize(2);
  }

  @Test
  void aSpecChangeMidPipelineStartsANewRevisionAndDropsTheOldJobs() {
    SparseModel model = create("minilm", spec -> {});
    String first = Revision.of(model.getSpec());
    kubelet.succeed(namespace, job(model, first, "prune"), StageResults.PRUNED);
    awaitJob(job(model, first, "engine"));

    admin
        .resources(SparseModel.class)
        .inNamespace(namespace)
        .withName("minilm")
        .edit(m -> Fixtures.withSpec(m, spec -> spec.with("gate").put("maxDrop", 0.2)));
    SparseModel edited = get(model);
    String second = Revision.of(edited.getSpec());

    assertThat(second).isNotEqualTo(first);
    awaitJob(job(edited, second, "prune"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin
                    .batch()
                    .v1()
                    .jobs()
                    .inNamespace(namespace)
                    .withLabel(StageJobs.REVISION_LABEL, first)
                    .list()
                    .getItems()
                    .isEmpty());
    assertThat(get(model).getStatus().getRevision()).isEqualTo(second);
    assertThat(get(model).getStatus().getPhase()).isEqualTo(Phase.PRUNING);

    // Back to the first spec: the same event again is counted on the one already recorded.
    admin
        .resources(SparseModel.class)
        .inNamespace(namespace)
        .withName("minilm")
        .edit(
            m ->
                Fixtures.withSpec(
                    m, spec -> spec.with("gate").put("maxDrop", model.getSpec().gate().maxDrop())));
    assertThat(Revision.of(get(model).getSpec())).isEqualTo(first);
    ns.awaitEvents(
        model,
        events ->
            assertThat(
                    events.stream()
                        .filter(e -> e.getMessage().equals("pipeline revision " + first))
                        .toList())
                .singleElement()
                .satisfies(e -> assertThat(e.getCount()).isEqualTo(2)));
  }

  @Test
  void noEligibleGpuNodeIsAConditionAndAWarningNotASilentPendingPod() {
    SparseModel model = create("minilm", spec -> spec.with("engine").put("backend", "tensorrt"));
    String revision = Revision.of(model.getSpec());
    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);

    ns.awaitCondition(
        model,
        "GpuPlacement",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.status()).isEqualTo("False");
          assertThat(c.reason()).isEqualTo("NoEligibleGpuNode");
          assertThat(c.message()).contains("nvidia.com/gpu.product");
        });
    assertThat(get(model).getStatus().getPhase()).isEqualTo(Phase.BUILDING_ENGINE);
    assertThat(
            admin
                .batch()
                .v1()
                .jobs()
                .inNamespace(namespace)
                .withName(job(model, revision, "engine"))
                .get())
        .isNull();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> reasons(model).contains("NoEligibleGpuNode"));
  }

  @Test
  void aRestartedOperatorAdoptsTheRunningJobInsteadOfCreatingASecond() {
    SparseModel model = create("minilm", spec -> {});
    String prune = job(model, Revision.of(model.getSpec()), "prune");
    awaitJob(prune);
    awaitPhase(model, Phase.PRUNING);

    // The reconciler keeps no memory: a restart is a reconcile that sees only the API. Wiping
    // the status (as if the operator died before patching it) and then letting the Job finish
    // forces exactly that.
    SparseModel wiped = get(model);
    wiped.setStatus(null);
    admin.resource(wiped).updateStatus();
    kubelet.succeed(namespace, prune, StageResults.PRUNED);
    String engine = job(model, Revision.of(model.getSpec()), "engine");
    awaitJob(engine);

    assertThat(admin.batch().v1().jobs().inNamespace(namespace).list().getItems())
        .extracting(j -> j.getMetadata().getName())
        .containsExactlyInAnyOrder(prune, engine);
    assertThat(awaitPhase(model, Phase.BUILDING_ENGINE).getStatus().getPruning().layersPruned())
        .isEqualTo(36);
  }

  @Test
  void deletingTheModelDeletesItsJobs() {
    SparseModel model = create("minilm", spec -> {});
    awaitJob(job(model, Revision.of(model.getSpec()), "prune"));

    admin.resource(get(model)).delete();

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> admin.batch().v1().jobs().inNamespace(namespace).list().getItems().isEmpty());
  }

  @Test
  void anInvalidSpecFailsWithAConditionNamingTheField() {
    SparseModel model =
        create("minilm", spec -> spec.with("engine").with("shapes").put("minBatch", 64));

    SparseModel failed = awaitPhase(model, Phase.FAILED);

    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("SpecValid"))
        .singleElement()
        .satisfies(c -> assertThat(c.message()).contains("spec.engine.shapes"));
    assertThat(admin.batch().v1().jobs().inNamespace(namespace).list().getItems()).isEmpty();
  }

  @Test
  void pathsLeavingTheirClaimOrBucketAreRefusedBeforeAnyPodMountsThem() {
    SparseModel model =
        create(
            "minilm",
            spec ->
                spec.with("source")
                    .put("uri", "pvc://models/../../var/run/secrets/kubernetes.io/token"));

    SparseModel failed = awaitPhase(model, Phase.FAILED);

    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("SpecValid"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("spec.source.uri: a \"..\" segment would leave the claim"));
    assertThat(admin.batch().v1().jobs().inNamespace(namespace).list().getItems()).isEmpty();
  }

  @Test
  void aStagePodTheClusterRefusesIsStageBlockedUntilTheClusterLetsItRun() {
    // A quota of no pods: the job controller's pod is refused at admission (FailedCreate).
    admin
        .resourceQuotas()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.ResourceQuotaBuilder()
                .withNewMetadata()
                .withName("no-pods")
                .endMetadata()
                .withNewSpec()
                .addToHard("pods", new io.fabric8.kubernetes.api.model.Quantity("0"))
                .endSpec()
                .build())
        .create();
    // Admission enforces a quota once the resourcequota controller has computed its usage and
    // the API server's admission has seen it: until a pod is refused (a busy server lags).
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              var probe =
                  new io.fabric8.kubernetes.api.model.PodBuilder()
                      .withNewMetadata()
                      .withName("quota-probe")
                      .endMetadata()
                      .withNewSpec()
                      .addNewContainer()
                      .withName("probe")
                      .withImage("probe")
                      .endContainer()
                      .endSpec()
                      .build();
              try {
                admin.pods().inNamespace(namespace).resource(probe).create();
                admin
                    .pods()
                    .inNamespace(namespace)
                    .withName("quota-probe")
                    .withGracePeriod(0)
                    .delete();
                return false;
              } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                return e.getCode() == 403;
              }
            });
    SparseModel model = create("minilm", spec -> {});
    String prune = job(model, Revision.of(model.getSpec()), "prune");
    awaitPhase(model, Phase.PRUNING);

    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(60),
        c -> {
          assertThat(c.status()).isEqualTo("True");
          assertThat(c.reason()).isEqualTo("FailedCreate");
          assertThat(c.message())
              .startsWith("stage prune (Job " + prune + ") cannot run: ")
              .contains("quota");
        });
    assertThat(get(model).getStatus().getPhase()).isEqualTo(Phase.PRUNING);
    await().atMost(Duration.ofSeconds(10)).until(() -> reasons(model).contains("StageBlocked"));

    // The quota goes; the job controller creates the pod at its next sync.
    admin.resourceQuotas().inNamespace(namespace).withName("no-pods").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> admin.resourceQuotas().inNamespace(namespace).withName("no-pods").get() == null);
    admin
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName(prune)
        .edit(
            j -> {
              j.getMetadata().getAnnotations().put("test/nudge", "1");
              return j;
            });
    kubelet.succeed(namespace, prune, StageResults.PRUNED);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(get(model).getStatus().getConditions())
                    .noneMatch(c -> c.type().equals("StageBlocked")));
  }

  @Test
  void aStagePodThatOnlyCarriesTheStagesLabelsCannotForgeItsResult() throws Exception {
    SparseModel model = create("minilm", spec -> {});
    String revision = Revision.of(model.getSpec());
    kubelet.succeed(namespace, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(namespace, job(model, revision, "engine"), StageResults.ENGINE);
    String evaluate = job(model, revision, "evaluate");
    Job real = awaitJob(evaluate);
    // A tenant's pod, one second newer than the Job's, labelled as the Job's pod and ending with
    // a result that passes the gate.
    Thread.sleep(1100);
    var forged =
        admin
            .pods()
            .inNamespace(namespace)
            .resource(
                new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata()
                    .withName(evaluate + "-forged")
                    .withLabels(
                        java.util.Map.of(
                            StageJobs.MANAGED_BY,
                            StageJobs.OPERATOR,
                            StageJobs.MODEL_LABEL,
                            "minilm",
                            StageJobs.REVISION_LABEL,
                            revision,
                            StageJobs.STAGE_LABEL,
                            "evaluate",
                            "job-name",
                            evaluate))
                    .endMetadata()
                    .withSpec(real.getSpec().getTemplate().getSpec())
                    .build())
            .create();
    io.sparserollout.testing.PodStatuses.update(
        admin,
        forged,
        pod -> {
          pod.getStatus().setPhase("Succeeded");
          pod.getStatus()
              .setContainerStatuses(
                  List.of(
                      io.sparserollout.testing.PodStatuses.terminated(
                          pod.getSpec().getContainers().get(0),
                          0,
                          StageResults.EVALUATED_GOOD,
                          io.sparserollout.testing.PodStatuses.now())));
          return pod;
        });
    kubelet.succeed(namespace, evaluate, StageResults.EVALUATED_BAD);

    SparseModel judged = awaitPhase(model, Phase.GATE_FAILED);
    assertThat(judged.getStatus().getGate().verdict()).isEqualTo(GateStatus.Verdict.FAILED);
  }

  @Test
  void aJobNameTakenBySomethingElseBlocksTheStageAndIsNeverAdopted() {
    SparseModel template = Fixtures.minilm(spec -> spec.with("rollout").put("replicas", 0));
    template.getMetadata().setName("minilm");
    String prune = job(template, Revision.of(template.getSpec()), "prune");
    admin
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.batch.v1.JobBuilder()
                .withNewMetadata()
                .withName(prune)
                .endMetadata()
                .withNewSpec()
                .withNewTemplate()
                .withNewSpec()
                .withRestartPolicy("Never")
                .addNewContainer()
                .withName("other")
                .withImage("someone/else")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();
    SparseModel model = create("minilm", spec -> {});

    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.reason()).isEqualTo("NameTaken");
          assertThat(c.message()).contains("Job " + prune + " already exists");
        });
    Job theirs = admin.batch().v1().jobs().inNamespace(namespace).withName(prune).get();
    assertThat(theirs.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(theirs.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("someone/else");
  }

  @Test
  void aStageContainerThatCannotStartIsStageBlockedThenItsDeadlineFailsIt() {
    SparseModel model = create("minilm", spec -> {});
    String prune = job(model, Revision.of(model.getSpec()), "prune");
    awaitJob(prune);

    kubelet.cannotStart(
        namespace,
        prune,
        "ImagePullBackOff",
        "Back-off pulling image \"sparserollout/sparsify:0.1.0\"");

    ns.awaitCondition(
        model,
        "StageBlocked",
        Duration.ofSeconds(30),
        c -> {
          assertThat(c.reason()).isEqualTo("ImagePullBackOff");
          assertThat(c.message()).contains("Back-off pulling image");
        });
    // Its deadline (activeDeadlineSeconds, hours by default) runs out: the job controller fails
    // the Job, and the stage fails naming why rather than hanging.
    admin
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName(prune)
        .edit(
            j -> {
              j.getSpec().setActiveDeadlineSeconds(1L);
              return j;
            });

    SparseModel failed = awaitPhase(model, Phase.FAILED);
    assertThat(failed.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(c -> assertThat(c.message()).contains("stage prune failed", "DeadlineExceeded"));
    assertThat(failed.getStatus().getConditions()).noneMatch(c -> c.type().equals("StageBlocked"));
  }

  @Test
  void aPrometheusUrlInASpecIsNeverCalled() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    var server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          calls.incrementAndGet();
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    server.start();
    try {
      SparseModel model =
          create(
              "minilm",
              spec ->
                  spec.with("rollout")
                      .with("analysis")
                      .put(
                          "prometheusUrl",
                          "http://127.0.0.1:" + server.getAddress().getPort() + "/internal"));

      SparseModel failed = awaitPhase(model, Phase.FAILED);

      assertThat(failed.getStatus().getConditions())
          .filteredOn(c -> c.type().equals("SpecValid"))
          .singleElement()
          .satisfies(
              c ->
                  assertThat(c.message())
                      .contains("spec.rollout.analysis.prometheusUrl: no longer accepted"));
      assertThat(admin.batch().v1().jobs().inNamespace(namespace).list().getItems()).isEmpty();
      assertThat(calls.get()).isZero();
    } finally {
      server.stop(0);
    }
  }

  /** Pipeline scenarios stop at the gate: nothing is served (rollout.replicas 0). */
  private SparseModel create(
      String name, Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) {
    return ns.create(
        name,
        spec -> {
          spec.with("rollout").put("replicas", 0);
          edit.accept(spec);
        });
  }

  private String job(SparseModel model, String revision, String stage) {
    return TestNamespace.job(model, revision, stage);
  }

  private Job awaitJob(String name) {
    return ns.awaitJob(name);
  }

  private SparseModel get(SparseModel model) {
    return ns.get(model);
  }

  private SparseModel awaitPhase(SparseModel model, Phase phase) {
    return ns.awaitPhase(model, phase);
  }

  private List<Event> events(SparseModel model) {
    return ns.events(model);
  }

  private List<String> reasons(SparseModel model) {
    return ns.reasons(model);
  }
}
