package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.rollout.RolloutPlanner.Observed;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RolloutPlannerTest {
  static final String REV = "abcdef0123";
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  /** Two replicas, steps 25% and 100% with 1 minute pauses, analysis every 20 s. */
  static RolloutSpec spec(boolean autoPromote) {
    return Fixtures.minilm(
            s -> {
              var rollout = s.with("rollout");
              rollout.put("replicas", 2).put("autoPromote", autoPromote);
              rollout.put("progressDeadline", "5m");
              var steps = rollout.with("canary").putArray("steps");
              steps.addObject().put("weight", 25).put("pause", "1m");
              steps.addObject().put("weight", 100).put("pause", "1m");
              rollout.with("analysis").put("interval", "20s").put("failureLimit", 1);
            })
        .getSpec()
        .rollout();
  }

  static final Supplier<AnalysisVerdict> NEVER =
      () -> {
        throw new AssertionError("no analysis expected");
      };

  static AnalysisVerdict verdict(double agreement) {
    TreeMap<Double, Double> buckets =
        new TreeMap<>(Map.of(0.01, 1000.0, Double.POSITIVE_INFINITY, 1000.0));
    Measurement m =
        new Measurement(
            1000,
            0,
            buckets,
            agreement * 500,
            500,
            500 * ((1 - agreement) * (1 - agreement) + 0.0001));
    return AnalysisVerdict.judge(m, spec(true).analysis());
  }

  static RolloutStatus canaryAt(int step, int weight, Instant started, int passed, int failures) {
    return RolloutStatus.from(null)
        .stable(ServedModel.DENSE)
        .canary(REV)
        .step(step)
        .weight(weight)
        .stepStartedAt(started.toString())
        .passed(passed)
        .failures(failures)
        .message("running")
        .build();
  }

  static RolloutPlanner.Inputs in(
      Phase phase,
      RolloutSpec spec,
      RolloutStatus current,
      Map<String, Observed> observed,
      Instant now) {
    return new RolloutPlanner.Inputs(REV, phase, spec, current, observed, null, null, now);
  }

  static Map<String, Observed> serving(int dense, int canary) {
    Map<String, Observed> observed = new HashMap<>();
    observed.put(ServedModel.DENSE, new Observed(dense, dense));
    observed.put(REV, new Observed(canary, canary));
    observed.put(ServedModel.BASELINE, new Observed(1, 1));
    return observed;
  }

  @Test
  void passingTheGateStartsACanaryAgainstTheDenseModelWithoutShrinkingIt() {
    RolloutPlan plan =
        RolloutPlanner.plan(in(Phase.GATE_PASSED, spec(true), null, Map.of(), T0), NEVER);

    assertThat(plan.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(plan.rollout().stableRevision()).isEqualTo(ServedModel.DENSE);
    assertThat(plan.rollout().canaryRevision()).isEqualTo(REV);
    assertThat(plan.rollout().canaryWeight()).isEqualTo(25);
    assertThat(plan.replicas())
        .containsOnly(entry(ServedModel.DENSE, 2), entry(REV, 1), entry(ServedModel.BASELINE, 1));
    assertThat(plan.retireOthers()).isFalse();
    assertThat(plan.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.CANARY_STARTED);
  }

  @Test
  void aCanaryThatIsNotReadyGetsNoTrafficShareAndIsRolledBackAtTheDeadline() {
    RolloutStatus current = canaryAt(0, 25, T0, 0, 0);
    Map<String, Observed> notReady = serving(2, 0);
    notReady.put(REV, new Observed(1, 0));

    RolloutPlan waiting =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), current, notReady, T0.plusSeconds(60)), NEVER);
    assertThat(waiting.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(waiting.replicas()).containsEntry(ServedModel.DENSE, 2);
    assertThat(waiting.message()).contains("0 of 1 canary pods ready");

    RolloutPlan late =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), current, notReady, T0.plusSeconds(300)), NEVER);
    assertThat(late.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(late.message()).contains("not ready within 5m");
    assertThat(late.replicas()).containsEntry(ServedModel.DENSE, 2).containsEntry(REV, 0);
    assertThat(late.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.ROLLED_BACK);
  }

  @Test
  void aReadyCanaryTakesItsShareAndIsAnalysedOncePerInterval() {
    RolloutStatus current = canaryAt(0, 25, T0, 0, 0);
    RolloutPlan early =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), current, serving(2, 1), T0.plusSeconds(10)), NEVER);
    assertThat(early.replicas()).containsEntry(ServedModel.DENSE, 1).containsEntry(REV, 1);
    assertThat(early.requeue()).isEqualTo(Duration.ofSeconds(10));

    AtomicInteger analyses = new AtomicInteger();
    RolloutPlan measured =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), current, serving(1, 1), T0.plusSeconds(20)),
            () -> {
              analyses.incrementAndGet();
              return verdict(0.99);
            });
    assertThat(analyses).hasValue(1);
    assertThat(measured.rollout().passed()).isEqualTo(1);
    assertThat(measured.rollout().agreement()).isEqualTo(0.99);
    assertThat(measured.rollout().lastAnalysisAt()).isEqualTo("2026-11-22T10:00:20Z");
    assertThat(measured.phase()).isEqualTo(Phase.ROLLING_OUT);
  }

  @Test
  void afterThePauseWithAPassedAnalysisTheNextStepGrowsTheCanaryFirst() {
    RolloutStatus current = canaryAt(0, 25, T0, 1, 0);
    RolloutPlan plan =
        RolloutPlanner.plan(
            in(
                Phase.ROLLING_OUT,
                spec(true),
                withLastAnalysis(current, T0.plusSeconds(50)),
                serving(1, 1),
                T0.plusSeconds(61)),
            NEVER);
    assertThat(plan.rollout().step()).isEqualTo(1);
    assertThat(plan.rollout().canaryWeight()).isEqualTo(100);
    assertThat(plan.rollout().passed()).isZero();
    assertThat(plan.replicas()).containsEntry(REV, 2).containsEntry(ServedModel.DENSE, 1);
    assertThat(plan.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.CANARY_STEP);
  }

  @Test
  void theLastStepPromotesAndTheOldStableGoesOnlyOnceTheNewOneServesInFull() {
    RolloutStatus last = withLastAnalysis(canaryAt(1, 100, T0, 1, 0), T0.plusSeconds(50));
    RolloutPlan plan =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), last, serving(0, 2), T0.plusSeconds(61)), NEVER);
    assertThat(plan.phase()).isEqualTo(Phase.PROMOTED);
    assertThat(plan.rollout().stableRevision()).isEqualTo(REV);
    assertThat(plan.rollout().canaryRevision()).isNull();
    assertThat(plan.replicas()).containsOnly(entry(REV, 2), entry(ServedModel.BASELINE, 1));
    assertThat(plan.retireOthers()).isTrue();
    assertThat(plan.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.PROMOTED);

    RolloutPlan halfway =
        RolloutPlanner.plan(
            in(Phase.PROMOTED, spec(true), plan.rollout(), serving(1, 1), T0.plusSeconds(62)),
            NEVER);
    assertThat(halfway.retireOthers()).isFalse();
  }

  @Test
  void withoutAutoPromoteTheLastStepWaitsForThePromoteAnnotation() {
    RolloutStatus last = withLastAnalysis(canaryAt(1, 100, T0, 1, 0), T0.plusSeconds(50));
    RolloutPlan waiting =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(false), last, serving(0, 2), T0.plusSeconds(61)), NEVER);
    assertThat(waiting.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(waiting.rollout().awaitingPromotion()).isTrue();
    assertThat(waiting.message()).contains("sparserollout.io/promote=" + REV);

    var promoted =
        new RolloutPlanner.Inputs(
            REV,
            Phase.ROLLING_OUT,
            spec(false),
            waiting.rollout(),
            serving(0, 2),
            REV,
            null,
            T0.plusSeconds(62));
    assertThat(RolloutPlanner.plan(promoted, NEVER).phase()).isEqualTo(Phase.PROMOTED);
  }

  @Test
  void failuresBeyondTheLimitRollBackNamingTheMetricAndValue() {
    RolloutStatus current = canaryAt(0, 25, T0, 0, 0);
    RolloutPlan first =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), current, serving(1, 1), T0.plusSeconds(20)),
            () -> verdict(0.5));
    assertThat(first.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(first.rollout().failures()).isEqualTo(1);
    assertThat(first.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.ANALYSIS_FAILED);

    RolloutPlan second =
        RolloutPlanner.plan(
            in(Phase.ROLLING_OUT, spec(true), first.rollout(), serving(1, 1), T0.plusSeconds(40)),
            () -> verdict(0.5));
    assertThat(second.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(second.message())
        .contains("shadow agreement 0.5000 [")
        .contains("< minAgreement 0.9500");
    assertThat(second.rollout().canaryWeight()).isZero();
    assertThat(second.replicas()).containsEntry(ServedModel.DENSE, 2).containsEntry(REV, 0);
  }

  static final Supplier<AnalysisVerdict> NO_TRAFFIC =
      () -> AnalysisVerdict.judge(Measurement.empty(), spec(true).analysis());

  @Test
  void aStepWithoutAPassingAnalysisWithinItsLimitIsRolledBackInsteadOfWaitingForever() {
    // The step's pods became ready late (T0 + 9 min): the limit counts from its first analysis.
    RolloutPlan waiting = plan(spec(true), canaryAt(0, 25, T0, 0, 0), 540);
    assertThat(waiting.phase()).isEqualTo(Phase.ROLLING_OUT);
    RolloutPlan stillWaiting = plan(spec(true), waiting.rollout(), 1130);
    assertThat(stillWaiting.phase()).isEqualTo(Phase.ROLLING_OUT);

    RolloutPlan ended = plan(spec(true), stillWaiting.rollout(), 1150);
    assertThat(ended.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(ended.message())
        .contains("no passing analysis within 10m of step 0")
        .contains("no requests have reached the canary yet");
  }

  @Test
  void withOnInconclusivePauseTheStepWaitsForAPersonWithOneWarning() {
    RolloutSpec pausing =
        Fixtures.minilm(
                s -> {
                  var rollout = s.with("rollout");
                  rollout.put("replicas", 2);
                  rollout.with("canary").putArray("steps").addObject().put("weight", 25);
                  rollout
                      .with("analysis")
                      .put("interval", "20s")
                      .put("inconclusiveLimit", "1m")
                      .put("onInconclusive", "pause");
                })
            .getSpec()
            .rollout();
    RolloutPlan first = plan(pausing, canaryAt(0, 25, T0, 0, 0), 20);
    RolloutPlan paused = plan(pausing, first.rollout(), 80);
    assertThat(paused.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(paused.rollout().awaitingPromotion()).isTrue();
    assertThat(paused.rollout().message()).contains("paused: annotate sparserollout.io/promote=");
    assertThat(paused.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.ANALYSIS_INCONCLUSIVE);
    assertThat(paused.replicas()).containsEntry(REV, 1);

    // Between analyses (a pod event) and at the next one: no new Warning, no nested message.
    for (int at : new int[] {85, 100}) {
      RolloutPlan stillPaused = plan(pausing, paused.rollout(), at);
      assertThat(stillPaused.phase()).isEqualTo(Phase.ROLLING_OUT);
      assertThat(stillPaused.events()).isEmpty();
      assertThat(stillPaused.rollout().message().split("paused:", -1)).hasSize(2);
    }
  }

  private static RolloutPlan plan(RolloutSpec spec, RolloutStatus current, int seconds) {
    return RolloutPlanner.plan(
        in(Phase.ROLLING_OUT, spec, current, serving(1, 1), T0.plusSeconds(seconds)), NO_TRAFFIC);
  }

  @Test
  void theAbortAnnotationRollsBackAtOnce() {
    var aborted =
        new RolloutPlanner.Inputs(
            REV,
            Phase.ROLLING_OUT,
            spec(true),
            canaryAt(0, 25, T0, 0, 0),
            serving(1, 1),
            null,
            REV,
            T0.plusSeconds(5));
    RolloutPlan plan = RolloutPlanner.plan(aborted, NEVER);
    assertThat(plan.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(plan.message()).contains("aborted by the sparserollout.io/abort annotation");
  }

  @Test
  void anAbortAnnotationNamingAnotherRevisionIsIgnored() {
    var other =
        new RolloutPlanner.Inputs(
            REV,
            Phase.ROLLING_OUT,
            spec(true),
            canaryAt(0, 25, T0, 0, 0),
            serving(1, 1),
            null,
            "0000000000",
            T0.plusSeconds(5));
    assertThat(RolloutPlanner.plan(other, NEVER).phase()).isEqualTo(Phase.ROLLING_OUT);
  }

  @Test
  void aRolledBackCanaryIsScaledToZeroOnlyOnceTheStableServes() {
    RolloutStatus rolledBack =
        RolloutStatus.from(null)
            .stable(ServedModel.DENSE)
            .canary(REV)
            .step(1)
            .weight(0)
            .stepStartedAt(T0.toString())
            .passed(0)
            .failures(2)
            .measured(0.5, 0.0, 3.0)
            .message("rolled back")
            .build();
    Map<String, Observed> stableGone = serving(0, 2);
    RolloutPlan waiting =
        RolloutPlanner.plan(in(Phase.ROLLED_BACK, spec(true), rolledBack, stableGone, T0), NEVER);
    assertThat(waiting.replicas()).containsEntry(ServedModel.DENSE, 2).doesNotContainKey(REV);
    assertThat(waiting.retireOthers()).isFalse();

    RolloutPlan settled =
        RolloutPlanner.plan(
            in(Phase.ROLLED_BACK, spec(true), rolledBack, serving(1, 2), T0), NEVER);
    assertThat(settled.replicas()).containsEntry(REV, 0);
  }

  @Test
  void aNewRevisionInItsPipelineStopsTheCanaryAndKeepsTheStableServing() {
    var pruning =
        new RolloutPlanner.Inputs(
            "1111111111",
            Phase.PRUNING,
            spec(true),
            canaryAt(0, 25, T0, 0, 0),
            serving(1, 1),
            null,
            null,
            T0);
    RolloutPlan plan = RolloutPlanner.plan(pruning, NEVER);
    assertThat(plan.phase()).isEqualTo(Phase.PRUNING);
    assertThat(plan.rollout().canaryRevision()).isNull();
    assertThat(plan.rollout().stableRevision()).isEqualTo(ServedModel.DENSE);
    assertThat(plan.replicas())
        .containsOnly(entry(ServedModel.DENSE, 2), entry(ServedModel.BASELINE, 1));
    assertThat(plan.retireOthers()).isTrue();
    assertThat(plan.events())
        .extracting(RolloutPlan.Notice::reason)
        .containsExactly(Reason.CANARY_SUPERSEDED);
  }

  @Test
  void behindAnHttpRouteTheStableKeepsEveryReplicaAndTheWeightShiftsOnlyWhenTheCanaryIsReady() {
    RolloutSpec routed =
        Fixtures.withSpec(
                Fixtures.minilm(),
                s -> {
                  var rollout = s.with("rollout");
                  rollout.put("replicas", 2).put("trafficMode", "gateway-api");
                  var steps = rollout.with("canary").putArray("steps");
                  steps.addObject().put("weight", 25).put("pause", "1m");
                  steps.addObject().put("weight", 100).put("pause", "1m");
                })
            .getSpec()
            .rollout();
    RolloutStatus second = canaryAt(1, 100, T0, 0, 0);
    Map<String, Observed> small = serving(2, 1);

    RolloutPlan waiting =
        RolloutPlanner.plan(in(Phase.ROLLING_OUT, routed, second, small, T0), NEVER);
    assertThat(waiting.replicas()).containsEntry(ServedModel.DENSE, 2).containsEntry(REV, 2);
    assertThat(waiting.routes()).containsExactly(entry(ServedModel.DENSE, 75), entry(REV, 25));

    RolloutPlan ready =
        RolloutPlanner.plan(in(Phase.ROLLING_OUT, routed, second, serving(2, 2), T0), NEVER);
    assertThat(ready.replicas()).containsEntry(ServedModel.DENSE, 2);
    assertThat(ready.routes()).containsExactly(entry(ServedModel.DENSE, 0), entry(REV, 100));
  }

  @Test
  void zeroReplicasMeansGatedButNotServed() {
    RolloutSpec none =
        Fixtures.minilm(s -> s.with("rollout").put("replicas", 0)).getSpec().rollout();
    RolloutPlan plan = RolloutPlanner.plan(in(Phase.GATE_PASSED, none, null, Map.of(), T0), NEVER);
    assertThat(plan.phase()).isEqualTo(Phase.GATE_PASSED);
    assertThat(plan.replicas()).isEmpty();
    assertThat(plan.message()).contains("replicas is 0");
  }

  private static RolloutStatus withLastAnalysis(RolloutStatus s, Instant at) {
    return RolloutStatus.from(s).lastAnalysisAt(at.toString()).build();
  }
}
