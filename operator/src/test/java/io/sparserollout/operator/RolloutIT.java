package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.PhaseTransition;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.rollout.RolloutPlanner;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Canary rollouts on a real kube-apiserver and kube-controller-manager: the operator creates the
 * serving Deployments, the deployment and replicaset controllers create pods, and the test plays
 * their kubelet (loopback addresses, Ready) and serves their /metrics, which the operator scrapes.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class RolloutIT {
  static final String GOOD = FakeInferencePods.metrics(400, 0, 0.99);
  static final String DISAGREEING = FakeInferencePods.metrics(400, 0, 0.62);
  static final Duration ROLLOUT = Duration.ofSeconds(90);

  @ConfigProperty(name = "sparserollout.serving.port")
  int port;

  private TestNamespace ns;
  private FakeInferencePods pods;

  @BeforeEach
  void connect(TestInfo test) {
    ns = TestNamespace.forTest(test);
    pods = new FakeInferencePods(ns.admin(), ns.name(), port, revision -> GOOD);
  }

  @AfterEach
  void disconnect() {
    pods.close();
    ns.close();
  }

  /** Two replicas; 50% then 100% with 2 s pauses; analysis every second, no failure tolerated. */
  private SparseModel create(Consumer<ObjectNode> edit) {
    return ns.create(
        "minilm",
        spec -> {
          ObjectNode rollout = spec.with("rollout");
          rollout.put("replicas", 2).put("progressDeadline", "30s");
          var steps = rollout.with("canary").putArray("steps");
          steps.addObject().put("weight", 50).put("pause", "2s");
          steps.addObject().put("weight", 100).put("pause", "2s");
          rollout.with("analysis").put("interval", "1s").put("failureLimit", 0);
          edit.accept(spec);
        });
  }

  @Test
  void aGoodCanaryIsPromotedThroughEveryStepAndTheDenseStableRetires() {
    SparseModel model = create(spec -> {});
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    SparseModel done = ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);

    assertThat(done.getStatus().getHistory())
        .extracting(PhaseTransition::phase)
        .containsSubsequence(Phase.GATE_PASSED, Phase.ROLLING_OUT, Phase.PROMOTED);
    assertThat(done.getStatus().getRollout().stableRevision()).isEqualTo(revision);
    assertThat(done.getStatus().getRollout().canaryRevision()).isNull();
    assertThat(done.getStatus().getRollout().agreement()).isEqualTo(0.99);
    ns.awaitReasons(model, "CanaryStarted", "CanaryStep", "Promoted");
    assertThat(ns.reasons(model)).doesNotContain("RolledBack", "AnalysisFailed");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(replicas("minilm-" + revision)).isEqualTo(2);
              assertThat(deployment("minilm-dense")).isNull();
            });
    assertThat(replicas("minilm-baseline")).isEqualTo(1);
    assertThat(ns.admin().services().inNamespace(ns.name()).withName("minilm").get()).isNotNull();
    assertThat(done.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Ready"))
        .singleElement()
        .satisfies(c -> assertThat(c.status()).isEqualTo("True"));
  }

  /**
   * After promotion the stable keeps being compared with the dense baseline: its pods' counters
   * grow with agreement 0.60 since the last reading (below minAgreement 0.95 for longer than the 2
   * s drift window), then with 0.99. The model stays promoted and serving throughout.
   */
  @Test
  void aPromotedModelWhoseAgreementStaysBelowTheMinimumIsFlaggedAndClearedWhenItRecovers() {
    SparseModel model =
        create(spec -> spec.with("rollout").with("analysis").put("driftWindow", "2s"));
    String revision = Revision.of(model.getSpec());
    Shadow shadow = promotedThenAgreeingAt(model, revision, 0.60);
    SparseModel drifted = awaitDrift(model, "True");
    assertThat(drifted.getStatus().getPhase()).isEqualTo(Phase.PROMOTED);
    assertThat(drifted.getStatus().getDrift().agreement()).isEqualTo(0.6);
    assertThat(drifted.getStatus().getDrift().revision()).isEqualTo(revision);
    ns.awaitReasons(model, "QualityDrift");
    assertThat(ns.events(model))
        .filteredOn(e -> e.getReason().equals("QualityDrift"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getType()).isEqualTo("Warning");
              assertThat(e.getMessage())
                  .contains("shadow agreement of " + revision + " with the dense model 0.6000")
                  .contains("below minAgreement 0.9500")
                  .contains("the drift window is 2s");
            });

    shadow.agreeAt(0.99);
    SparseModel recovered = awaitDrift(model, "False");
    assertThat(recovered.getStatus().getPhase()).isEqualTo(Phase.PROMOTED);
    assertThat(recovered.getStatus().getDrift().agreement()).isGreaterThan(0.95);
    ns.awaitReasons(model, "QualityRecovered");
    assertThat(ns.reasons(model)).doesNotContain("RolledBack");
    assertThat(replicas("minilm-" + revision)).isEqualTo(2);
  }

  /**
   * With autoRecalibrate, a drifting stable starts one new revision that calibrates on the captured
   * samples (mixed with the file) and is judged on them too; the stable serves until the
   * recalibrated revision passes its gate and canary, and a stable that drifted starts no second.
   */
  @Test
  void aDriftingStableStartsOneRecalibratedRevisionThatReplacesItThroughGateAndCanary() {
    SparseModel model =
        create(
            spec -> {
              spec.with("rollout")
                  .with("analysis")
                  .put("driftWindow", "2s")
                  .put("autoRecalibrate", true);
              spec.with("rollout").with("capture").put("enabled", true);
            });
    String first = Revision.of(model.getSpec());
    Shadow shadow = promotedThenAgreeingAt(model, first, 0.60);
    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> !first.equals(ns.get(model).getStatus().getRevision()));
    SparseModel recalibrating = ns.get(model);
    String second = recalibrating.getStatus().getRevision();
    assertThat(recalibrating.getStatus().getRecalibration())
        .satisfies(
            r -> {
              assertThat(r.count()).isEqualTo(1);
              assertThat(r.active()).isTrue();
              assertThat(r.fromRevision()).isEqualTo(first);
              assertThat(r.reason()).contains("below minAgreement");
            });
    assertThat(recalibrating.getStatus().getRollout().stableRevision()).isEqualTo(first);
    assertThat(recalibrating.getStatus().getCaptureEpoch()).isEqualTo(1);
    assertThat(replicas("minilm-" + first)).isEqualTo(2);
    ns.awaitReasons(model, "QualityDrift", "RecalibrationStarted");

    // The recalibrated prune reads the file and the captured samples.
    String captured = "/mnt/artifacts/sparserollout/" + ns.name() + "/minilm/captured";
    assertThat(
            ns.awaitJob(TestNamespace.job(model, second, "prune"))
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getArgs())
        .containsSubsequence("--calibration", "/mnt/models/data/calibration.txt")
        .containsSubsequence("--also-captured", captured);
    ns.kubelet().succeed(ns.name(), TestNamespace.job(model, second, "prune"), StageResults.PRUNED);
    ns.kubelet()
        .succeed(ns.name(), TestNamespace.job(model, second, "engine"), StageResults.ENGINE);
    assertThat(
            ns.awaitJob(TestNamespace.job(model, second, "evaluate"))
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getArgs())
        .contains("--set=file=/mnt/models/data/evaluation.txt", "--set=captured=" + captured);
    // The recalibrated canary's pods are new: their counters start from GOOD's, not the stable's.
    pods.serveMetrics(r -> r.equals(second) ? GOOD : shadow.metrics());
    var good = StageResults.evaluation(0.9037, 0.665);
    ns.kubelet()
        .succeed(
            ns.name(),
            TestNamespace.job(model, second, "evaluate"),
            StageResults.json(
                new io.sparserollout.stage.EvaluationResult(
                        300,
                        good.fidelity(),
                        null,
                        null,
                        null,
                        null,
                        null,
                        java.util.List.of(
                            new io.sparserollout.stage.EvaluationResult.SetQuality(
                                "file", 300, good.fidelity(), null, null, null),
                            new io.sparserollout.stage.EvaluationResult.SetQuality(
                                "captured", 120, good.fidelity(), null, null, null)))
                    .compact()));

    await()
        .atMost(ROLLOUT)
        .untilAsserted(
            () -> {
              var status = ns.get(model).getStatus();
              assertThat(status.getPhase()).isEqualTo(Phase.PROMOTED);
              assertThat(status.getRollout().stableRevision()).isEqualTo(second);
            });
    SparseModel promoted = awaitDrift(model, "False");
    assertThat(promoted.getStatus().getGate().sets())
        .extracting(io.sparserollout.api.v1alpha1.GateStatus.SetVerdict::name)
        .containsExactly("file", "captured");
    assertThat(promoted.getStatus().getRecalibration().count()).isEqualTo(1);

    assertThat(ns.events(model))
        .filteredOn(e -> e.getReason().equals("RecalibrationStarted"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .startsWith(first + " drifted: recalibration 1 starts a revision"));

    // The recalibrated stable drifts in turn: a second recalibration, although its spec reads as
    // the first's did, starts a revision of its own.
    pods.serveMetrics(r -> shadow.metrics());
    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> !second.equals(ns.get(model).getStatus().getRevision()));
    var again = ns.get(model).getStatus();
    assertThat(again.getRecalibration().count()).isEqualTo(2);
    assertThat(again.getRecalibration().fromRevision()).isEqualTo(second);
    assertThat(again.getCaptureEpoch()).isEqualTo(2);
    ns.awaitJob(TestNamespace.job(model, again.getRevision(), "prune"));
    assertThat(ns.events(model))
        .filteredOn(e -> e.getReason().equals("RecalibrationStarted"))
        .extracting(e -> e.getMessage().substring(0, e.getMessage().indexOf(" starts")))
        .containsExactlyInAnyOrder(
            first + " drifted: recalibration 1", second + " drifted: recalibration 2");
  }

  /**
   * Plays the pipeline to promotion and waits for the drift watch's first reading (where it judges
   * from: GOOD's 200 comparisons per pod); from then on each pod's counters grow by 1800
   * comparisons a second at {@code agreement}.
   */
  private Shadow promotedThenAgreeingAt(SparseModel model, String revision, double agreement) {
    ns.passPipeline(model, revision);
    ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ns.get(model).getStatus().getDrift() != null);
    Shadow shadow = new Shadow();
    shadow.agreeAt(agreement);
    pods.serveMetrics(r -> shadow.metrics());
    return shadow;
  }

  /**
   * A stable's shadow counters as its pods would report them under steady traffic: from GOOD's,
   * 1800 more comparisons a second at the agreement last set (half 0.01 above it, half below).
   */
  private static final class Shadow {
    private long compared = 200;
    private double sum = 198;
    private double squares = 0.04;
    private double agreement;
    private long at = System.nanoTime();

    synchronized void agreeAt(double next) {
      advance();
      agreement = next;
    }

    synchronized String metrics() {
      advance();
      return FakeInferencePods.metrics((int) (2 * compared), 0, (int) compared, sum, squares);
    }

    private void advance() {
      long now = System.nanoTime();
      long more = agreement == 0 ? 0 : Math.round(1800 * (now - at) / 1e9);
      compared += more;
      sum += more * agreement;
      squares += more * ((1 - agreement) * (1 - agreement) + 0.0001);
      at = now;
    }
  }

  private SparseModel awaitDrift(SparseModel model, String condition) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              var status = ns.get(model).getStatus();
              assertThat(status.getConditions())
                  .as("drift %s", status.getDrift())
                  .anyMatch(c -> c.type().equals("QualityDrift") && c.status().equals(condition));
            });
    return ns.get(model);
  }

  /**
   * spec.rollout.maxExtraReplicas 0 with 3 replicas: every write the operator makes to the serving
   * Deployments, as the API server records them in order, leaves the stable and the canary with 3
   * pods or fewer together; each served model has a PodDisruptionBudget, gone with its Deployment.
   */
  @Test
  void aPodBudgetHoldsAtEveryWriteAndEachServedModelHasADisruptionBudget() throws Exception {
    java.util.Map<String, Integer> specReplicas = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.List<String> over = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.List<Integer> sums = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (var watch =
        ns.admin()
            .apps()
            .deployments()
            .inNamespace(ns.name())
            .watch(
                new io.fabric8.kubernetes.client.Watcher<Deployment>() {
                  @Override
                  public void eventReceived(Action action, Deployment d) {
                    String name = d.getMetadata().getName();
                    if (action == Action.DELETED) {
                      specReplicas.remove(name);
                    } else if (!name.equals("minilm-baseline")) {
                      specReplicas.put(name, d.getSpec().getReplicas());
                    }
                    int sum = specReplicas.values().stream().mapToInt(Integer::intValue).sum();
                    sums.add(sum);
                    if (sum > 3) {
                      over.add(specReplicas.toString());
                    }
                  }

                  @Override
                  public void onClose(io.fabric8.kubernetes.client.WatcherException e) {}
                })) {
      SparseModel model =
          create(spec -> spec.with("rollout").put("replicas", 3).put("maxExtraReplicas", 0));
      String revision = Revision.of(model.getSpec());
      ns.passPipeline(model, revision);
      ns.awaitPhase(model, Phase.ROLLING_OUT, ROLLOUT);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(budgets())
                      .containsOnlyKeys("minilm-dense", "minilm-" + revision, "minilm-baseline"));

      ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(replicas("minilm-" + revision)).isEqualTo(3);
                assertThat(deployment("minilm-dense")).isNull();
                assertThat(budgets()).containsOnlyKeys("minilm-" + revision, "minilm-baseline");
              });
      assertThat(budgets().get("minilm-" + revision))
          .isEqualTo(
              Map.of(
                  "maxUnavailable",
                  1,
                  "selector",
                  Map.of(
                      "matchLabels",
                      deployment("minilm-" + revision).getSpec().getSelector().getMatchLabels())));
    }
    assertThat(over).as("writes past the budget").isEmpty();
    // The stable did shrink as the canary grew: without the budget it kept 3 beside the canary.
    assertThat(sums).contains(3);
  }

  /** The PodDisruptionBudgets in the namespace (policy/v1beta1 on this 1.20 API server). */
  private Map<String, Object> budgets() {
    Map<String, Object> budgets = new java.util.TreeMap<>();
    ns.admin()
        .genericKubernetesResources("policy/v1beta1", "PodDisruptionBudget")
        .inNamespace(ns.name())
        .list()
        .getItems()
        .forEach(
            b -> budgets.put(b.getMetadata().getName(), b.getAdditionalProperties().get("spec")));
    return budgets;
  }

  @Test
  void canaryAndPromotionOutliveTheirStagePodsBeingGarbageCollected() throws Exception {
    SparseModel model =
        create(
            spec ->
                ((ObjectNode) spec.with("rollout").with("canary").withArray("steps").get(0))
                    .put("pause", "6s"));
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);
    ns.awaitPhase(model, Phase.ROLLING_OUT, ROLLOUT);

    ns.forgetStagePods(model);
    SparseModel done = ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);

    assertThat(done.getStatus().getHistory())
        .extracting(PhaseTransition::phase)
        .doesNotContain(Phase.FAILED);
    ns.forgetStagePods(model);
    Thread.sleep(3000);
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.PROMOTED);
    assertThat(replicas("minilm-" + revision)).isEqualTo(2);
    assertThat(ns.reasons(model)).doesNotContain("StageFailed", "RolledBack");
  }

  @Test
  void aServingDeploymentReturnsAfterAnEditAndFollowsTheOperatorsServingImage() {
    SparseModel model = create(spec -> {});
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);
    ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    String name = "minilm-" + revision;
    String shipped = image(name);

    // A person edits a managed field: the next reconcile puts it back.
    ns.admin()
        .apps()
        .deployments()
        .inNamespace(ns.name())
        .withName(name)
        .edit(
            d -> {
              d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("evil/image:1");
              return d;
            });
    ns.annotate(model, "test/nudge", "1");
    await().atMost(Duration.ofSeconds(30)).until(() -> image(name).equals(shipped));

    // The operator's serving image changes (a kustomize overlay's images:): the revision rolls.
    String next = "sparserollout/inference-pod:next";
    setServingImage(next);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> image(name).equals(next));
      assertThat(
              deployment(name)
                  .getSpec()
                  .getStrategy()
                  .getRollingUpdate()
                  .getMaxUnavailable()
                  .getIntVal())
          .isZero();
      assertThat(replicas(name)).isEqualTo(2);
    } finally {
      setServingImage(shipped);
    }
  }

  private String image(String deployment) {
    return deployment(deployment)
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getImage();
  }

  private void setServingImage(String image) {
    ns.admin()
        .v1()
        .podTemplates()
        .inNamespace("sparserollout-system")
        .withName("sparserollout-workload-images")
        .edit(
            t -> {
              t.getTemplate().getSpec().getContainers().stream()
                  .filter(c -> c.getName().equals("inference-pod"))
                  .forEach(c -> c.setImage(image));
              return t;
            });
  }

  @Test
  void aCanaryThatDisagreesWithTheDenseModelIsRolledBack() {
    pods.serveMetrics(revision -> revision.equals("dense") ? GOOD : DISAGREEING);
    SparseModel model = create(spec -> {});
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    SparseModel done = ns.awaitPhase(model, Phase.ROLLED_BACK, ROLLOUT);

    // Enough evidence to fail at once: 200 comparisons put the whole interval under 0.95.
    assertThat(done.getStatus().getRollout().message())
        .contains("shadow agreement 0.6200 [0.6152, 0.6248] < minAgreement 0.9500");
    assertThat(done.getStatus().getRollout().stableRevision()).isEqualTo("dense");
    assertThat(done.getStatus().getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.status()).isEqualTo("True");
              assertThat(c.message()).contains("shadow agreement 0.6200");
            });
    ns.awaitEvents(
        model,
        events ->
            assertThat(events)
                .filteredOn(e -> e.getReason().equals("RolledBack"))
                .singleElement()
                .satisfies(e -> assertThat(e.getType()).isEqualTo("Warning")));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(replicas("minilm-" + revision)).isZero();
              assertThat(replicas("minilm-dense")).isEqualTo(2);
            });
  }

  /**
   * minSamples 1000 while the canary has 200 shadow comparisons: every analysis waits, the canary
   * neither promoted nor rolled back, status showing the evidence so far; once its pods report
   * 2000, the same canary is promoted.
   */
  @Test
  void aCanaryWithTooFewSamplesWaitsAndIsPromotedOnceTheEvidenceSuffices() {
    SparseModel model =
        create(
            spec ->
                spec.with("rollout")
                    .with("analysis")
                    .put("minSamples", 1000)
                    .put("inconclusiveLimit", "1h"));
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    await()
        .atMost(ROLLOUT)
        .untilAsserted(
            () -> {
              var rollout = ns.get(model).getStatus().getRollout();
              assertThat(rollout).isNotNull();
              assertThat(rollout.comparisons()).isEqualTo(200L);
              assertThat(rollout.message()).contains("200 of minSamples 1000 shadow comparisons");
            });
    // Several analyses later (one a second) it still waits at its first step.
    await().pollDelay(Duration.ofSeconds(6)).until(() -> true);
    SparseModel waiting = ns.get(model);
    assertThat(waiting.getStatus().getPhase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(waiting.getStatus().getRollout().step()).isZero();
    assertThat(waiting.getStatus().getRollout().passed()).isZero();
    assertThat(waiting.getStatus().getRollout().failures()).isZero();
    assertThat(ns.reasons(model)).doesNotContain("CanaryStep", "Promoted", "RolledBack");

    pods.serveMetrics(revision2 -> FakeInferencePods.metrics(4000, 0, 0.99));
    SparseModel done = ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    assertThat(ns.reasons(model)).doesNotContain("RolledBack", "AnalysisFailed");
    var evidence = done.getStatus().getRollout();
    assertThat(evidence.comparisons()).isGreaterThanOrEqualTo(2000L); // 2000 a pod
    assertThat(evidence.agreementInterval().low()).isGreaterThan(0.95);
    assertThat(evidence.errorRateInterval().low()).isZero();
    assertThat(evidence.errorRateInterval().high()).isLessThan(0.01);
  }

  @Test
  void aPodThatOnlyLooksLikeTheCanaryCannotVouchForIt() {
    pods.serveMetrics(revision -> revision.equals("dense") ? GOOD : DISAGREEING);
    SparseModel model = create(spec -> {});
    String revision = Revision.of(model.getSpec());
    // A tenant's Ready pod with the canary's labels (not its ReplicaSet's hash, so nothing adopts
    // it), reporting a flood of perfect agreement.
    pods.serveMetrics("minilm-" + revision + "-forged", FakeInferencePods.metrics(100_000, 0, 1.0));
    ns.passPipeline(model, revision);
    Deployment canary =
        await().atMost(ROLLOUT).until(() -> deployment("minilm-" + revision), d -> d != null);
    Map<String, String> labels =
        new java.util.HashMap<>(canary.getSpec().getTemplate().getMetadata().getLabels());
    ns.admin()
        .pods()
        .inNamespace(ns.name())
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("minilm-" + revision + "-forged")
                .withLabels(labels)
                .endMetadata()
                .withSpec(canary.getSpec().getTemplate().getSpec())
                .build())
        .create();

    SparseModel done = ns.awaitPhase(model, Phase.ROLLED_BACK, ROLLOUT);

    assertThat(done.getStatus().getRollout().message())
        .contains("shadow agreement 0.6200 [0.6152, 0.6248] < minAgreement 0.9500");
  }

  @Test
  void aServiceNameTakenBySomethingElseIsAConditionNotATakeover() {
    ns.admin()
        .services()
        .inNamespace(ns.name())
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("minilm")
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", "someone-else"))
                .addNewPort()
                .withPort(80)
                .endPort()
                .endSpec()
                .build())
        .create();
    SparseModel model = create(spec -> {});
    ns.passPipeline(model, Revision.of(model.getSpec()));

    ns.awaitCondition(
        model,
        "ResourcesOwned",
        ROLLOUT,
        c -> {
          assertThat(c.status()).isEqualTo("False");
          assertThat(c.reason()).isEqualTo("NameTaken");
          assertThat(c.message()).contains("Service minilm already exists", "no controller");
        });
    ns.awaitReasons(model, "NameTaken");
    var service = ns.admin().services().inNamespace(ns.name()).withName("minilm").get();
    assertThat(service.getSpec().getSelector()).isEqualTo(Map.of("app", "someone-else"));
    assertThat(service.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.GATE_PASSED);
  }

  @Test
  void aPrometheusTheOperatorDoesNotAllowIsNeverQueriedAndTheStepEndsAtItsLimit() {
    SparseModel model =
        create(
            spec ->
                spec.with("rollout")
                    .with("analysis")
                    .put("prometheus", "tenant-choice")
                    .put("inconclusiveLimit", "4s"));
    ns.passPipeline(model, Revision.of(model.getSpec()));

    SparseModel done = ns.awaitPhase(model, Phase.ROLLED_BACK, ROLLOUT);

    assertThat(done.getStatus().getRollout().message())
        .contains("no passing analysis within 4s of step 0")
        .contains("no Prometheus named tenant-choice is allowed");
    assertThat(done.getStatus().getRollout().stableRevision()).isEqualTo("dense");
  }

  @Test
  void aCanaryThatNeverBecomesReadyIsRolledBackAtItsDeadline() {
    SparseModel model = create(spec -> spec.with("rollout").put("progressDeadline", "5s"));
    String revision = Revision.of(model.getSpec());
    pods.neverReady(revision);
    ns.passPipeline(model, revision);

    SparseModel done = ns.awaitPhase(model, Phase.ROLLED_BACK, ROLLOUT);

    assertThat(done.getStatus().getRollout().message())
        .contains("canary not ready within 5s: 0 of 1 canary pods ready");
    assertThat(replicas("minilm-dense")).isEqualTo(2);
  }

  @Test
  void aManualRolloutWaitsForPromotionAndCanBeAborted() {
    SparseModel model = create(spec -> spec.with("rollout").put("autoPromote", false));
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    await()
        .atMost(ROLLOUT)
        .until(
            () -> ns.get(model).getStatus().getRollout(),
            r -> r != null && Boolean.TRUE.equals(r.awaitingPromotion()));
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.ROLLING_OUT);

    ns.annotate(model, RolloutPlanner.ABORT_ANNOTATION, revision);
    SparseModel done = ns.awaitPhase(model, Phase.ROLLED_BACK, Duration.ofSeconds(30));
    assertThat(done.getStatus().getRollout().message()).contains("aborted by the");
  }

  @Test
  void aManualRolloutIsPromotedByTheAnnotation() {
    SparseModel model =
        create(
            spec -> {
              spec.with("rollout").put("autoPromote", false);
              spec.with("rollout")
                  .with("canary")
                  .putArray("steps")
                  .addObject()
                  .put("weight", 50)
                  .put("pause", "1h");
            });
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);
    ns.awaitPhase(model, Phase.ROLLING_OUT, ROLLOUT);
    assertThat(plugin("status", "minilm", "-n", ns.name()).output())
        .contains("phase:       RollingOut")
        .contains("canary:      " + revision + " at 50% (step 0)")
        .containsPattern("phases of revision " + revision + ":\n  \\w+ +\\S+  \\d+s\n")
        .containsPattern("  RollingOut +\\S+  \\d+s since");
    SparseModel gated = ns.get(model);
    assertThat(plugin("report", "minilm", "-n", ns.name()).output())
        .contains("gate:        " + gated.getStatus().getGate().metric() + " dense 1, sparse ")
        .contains("verdict:     " + gated.getStatus().getGate().message())
        .doesNotContain("fine-tuning:")
        .contains("  evaluate ");

    // As an operator types it: kubectl finds the plugin on PATH.
    var promoted = plugin("promote", "minilm", "-n", ns.name());

    assertThat(promoted.output())
        .contains("asked to promote canary " + revision)
        .contains("sparserollout.io/promote=" + revision);
    SparseModel done = ns.awaitPhase(model, Phase.PROMOTED, Duration.ofSeconds(30));
    assertThat(done.getStatus().getRollout().message()).contains("promoted by the");
    var nothingToAbort = plugin("abort", "minilm", "-n", ns.name());
    assertThat(nothingToAbort.exitCode()).isEqualTo(1);
    assertThat(nothingToAbort.output()).contains("minilm has no canary to abort (phase Promoted)");
    assertThat(plugin("promote", "absent", "-n", ns.name()).output()).contains("not found");
  }

  /** {@code kubectl sparse ...} with bin/ on PATH, as the admin's kubeconfig. */
  static io.sparserollout.testing.Kubectl.Result plugin(String... args) {
    java.util.List<String> command =
        new java.util.ArrayList<>(java.util.List.of("kubectl", "sparse"));
    command.addAll(java.util.List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder
        .environment()
        .put(
            "PATH",
            java.nio.file.Path.of("../bin").toAbsolutePath().normalize()
                + ":"
                + io.sparserollout.testing.ControlPlaneBinaries.directory()
                + ":"
                + System.getenv("PATH"));
    builder
        .environment()
        .put("KUBECONFIG", RealApiServerResource.apiServer().kubeconfig().toString());
    try {
      Process process = builder.start();
      String output =
          new String(
              process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      return new io.sparserollout.testing.Kubectl.Result(process.exitValue(), output);
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aNewSpecMidCanaryStopsTheCanaryWhileTheStableKeepsServing() {
    SparseModel model =
        create(
            spec ->
                spec.with("rollout")
                    .with("canary")
                    .putArray("steps")
                    .addObject()
                    .put("weight", 50)
                    .put("pause", "1h"));
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);
    // The canary is under way once status says so (not merely once its Deployment exists: a
    // Deployment whose status write lost a conflict is re-planned from the recorded state).
    await()
        .atMost(ROLLOUT)
        .until(
            () -> ns.get(model).getStatus().getRollout(),
            r -> r != null && revision.equals(r.canaryRevision()));
    await().atMost(ROLLOUT).until(() -> replicas("minilm-" + revision), r -> r != null && r == 1);

    SparseModel edited =
        ns.admin()
            .resources(SparseModel.class)
            .inNamespace(ns.name())
            .withName("minilm")
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\":{\"sparsity\":{\"calibration\":{\"samples\":64}}}}");
    String next = Revision.of(edited.getSpec());

    ns.awaitJob(TestNamespace.job(model, next, "prune"));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              SparseModel current = ns.get(model);
              assertThat(current.getStatus().getRevision()).isEqualTo(next);
              assertThat(current.getStatus().getRollout().canaryRevision()).isNull();
              assertThat(current.getStatus().getRollout().stableRevision()).isEqualTo("dense");
              assertThat(deployment("minilm-" + revision)).isNull();
              assertThat(replicas("minilm-dense")).isEqualTo(2);
            });
    ns.awaitReasons(model, "CanarySuperseded");
  }

  /**
   * A spec that reads captured samples, edited and reverted to the stable's: the revert is a new
   * revision (a new capture epoch), not the stable's pipeline run again under its name, which would
   * swap a model built on newer samples into the stable's pods with no gate or canary.
   */
  @Test
  void aRevertToTheStablesCapturedSpecIsANewRevisionNotARebuildOfTheStable() {
    SparseModel model =
        create(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("sparsity").with("calibration").put("source", "mixed");
            });
    String stable = Revision.of(model.getSpec());
    ns.passPipeline(model, stable);
    ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    var stableTemplate = deployment("minilm-" + stable).getSpec().getTemplate();

    String edited = revisionAfter(model, stable, 64);
    String reverted = revisionAfter(model, edited, 128);

    assertThat(reverted).isNotEqualTo(stable).isNotEqualTo(edited);
    assertThat(ns.get(model).getStatus().getCaptureEpoch()).isEqualTo(2);
    ns.awaitJob(TestNamespace.job(model, reverted, "prune"));
    var current = ns.get(model).getStatus();
    assertThat(current.getRollout().stableRevision()).isEqualTo(stable);
    assertThat(deployment("minilm-" + stable).getSpec().getTemplate()).isEqualTo(stableTemplate);
  }

  /** Sets calibration.samples and returns the revision that starts after {@code before}. */
  private String revisionAfter(SparseModel model, String before, int samples) {
    ns.admin()
        .resources(SparseModel.class)
        .inNamespace(ns.name())
        .withName(model.getMetadata().getName())
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"sparsity\":{\"calibration\":{\"samples\":" + samples + "}}}}");
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ns.get(model).getStatus().getRevision(), r -> r != null && !r.equals(before));
  }

  private Deployment deployment(String name) {
    return ns.admin().apps().deployments().inNamespace(ns.name()).withName(name).get();
  }

  private Integer replicas(String name) {
    Deployment d = deployment(name);
    return d == null ? null : d.getSpec().getReplicas();
  }
}
