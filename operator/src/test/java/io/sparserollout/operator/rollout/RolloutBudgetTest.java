package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.rollout.RolloutPlanner.Observed;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Whole rollouts under spec.rollout.maxExtraReplicas, the planner's decisions fed back as the
 * cluster would carry them out (a pod asked for is Ready at the next look): the stable and the
 * canary never have more pods together than replicas + the budget, at any step, in either traffic
 * mode, through promotion and rollback.
 */
class RolloutBudgetTest {
  private static final String REV = RolloutPlannerTest.REV;

  static RolloutSpec spec(String trafficMode, int replicas, int extra, int... weights) {
    return Fixtures.minilm(
            s -> {
              var rollout = s.with("rollout");
              rollout.put("replicas", replicas).put("maxExtraReplicas", extra);
              rollout.put("trafficMode", trafficMode);
              if (trafficMode.equals("gateway-api")) {
                rollout.with("gateway").put("name", "inference");
              }
              var steps = rollout.with("canary").putArray("steps");
              for (int weight : weights) {
                steps.addObject().put("weight", weight).put("pause", "20s");
              }
              rollout.with("analysis").put("interval", "10s");
            })
        .getSpec()
        .rollout();
  }

  @Test
  void withNoExtraPodsTheReplicaSplitNeverPassesTheReplicas() {
    List<String> trace = rollOut(spec("replicas", 4, 0, 25, 50, 100), 0.99);
    assertThat(trace.get(trace.size() - 1)).startsWith("PROMOTED {" + REV + "=4,");
  }

  @Test
  void withOneExtraPodARoutedRolloutShrinksTheStableAsTheCanaryGrows() {
    List<String> trace = rollOut(spec("gateway-api", 4, 1, 25, 50, 75), 0.99);
    assertThat(trace.get(trace.size() - 1)).startsWith("PROMOTED {" + REV + "=4,");
    // Without a budget the stable would keep its 4 pods beside the canary's 3.
    assertThat(trace).anyMatch(t -> t.contains("dense=2") && t.contains(REV + "=3"));
  }

  @Test
  void aRollbackGrowsTheStableOnlyIntoWhatTheCanaryLeaves() {
    List<String> trace = rollOut(spec("replicas", 3, 0, 34, 67), 0.10);
    assertThat(trace.get(trace.size() - 1))
        .isEqualTo("ROLLED_BACK {" + REV + "=0, baseline=1, dense=3}");
  }

  @Test
  void oneReplicaAndOneExtraPodStillPromote() {
    List<String> trace = rollOut(spec("gateway-api", 1, 1, 50), 0.99);
    assertThat(trace.get(trace.size() - 1)).startsWith("PROMOTED {" + REV + "=1,");
  }

  @Test
  void aCanaryFailingAtFullWeightHandsItsPodsBackOneAtATimeWithoutPassingTheCap() {
    // 4 replicas, no extra pod, the canary fails at its 100% step: the stable has no pod then.
    List<String> trace =
        rollOut(
            spec("replicas", 4, 0, 50, 100),
            status -> status.canaryWeight() != null && status.canaryWeight() == 100 ? 0.1 : 0.99);
    assertThat(trace)
        .anyMatch(t -> t.startsWith("ROLLING_OUT {" + REV + "=4,") && t.contains("dense=0"));
    assertThat(trace.get(trace.size() - 1))
        .isEqualTo("ROLLED_BACK {" + REV + "=0, baseline=1, dense=4}");
  }

  @Test
  void aSupersededCanaryGivesUpItsPodsAsTheStableComesBackWithinTheCap() {
    RolloutStatus canary = RolloutPlannerTest.canaryAt(0, 67, RolloutPlannerTest.T0, 1, 0);
    // Mid-step: the stable serves with 1 pod, the canary has 2; no extra pod.
    Map<String, Observed> observed = new HashMap<>();
    observed.put(ServedModel.DENSE, new Observed(1, 1));
    observed.put(REV, new Observed(2, 2));
    observed.put(ServedModel.BASELINE, new Observed(1, 1));

    RolloutPlan plan =
        RolloutPlanner.plan(
            new RolloutPlanner.Inputs(
                "fedcba9876",
                Phase.PRUNING,
                spec("replicas", 3, 0, 50),
                canary,
                observed,
                null,
                null,
                RolloutPlannerTest.T0),
            RolloutPlannerTest.NEVER);

    // Not the stable at 3 beside a canary being deleted: one pod changes hands at a time.
    assertThat(plan.replicas()).containsEntry(ServedModel.DENSE, 2).containsEntry(REV, 1);
    assertThat(plan.retireOthers()).isFalse();
  }

  @Test
  void aSupersededCanaryGoesOnceTheBudgetNoLongerHoldsTheStableBack() {
    // One extra pod: the stable, 2 of its 3 pods Ready, can have all 3 beside the canary's 1, so
    // the canary is retired as without a budget rather than held while the stable catches up.
    Map<String, Observed> observed = new HashMap<>();
    observed.put(ServedModel.DENSE, new Observed(3, 2));
    observed.put(REV, new Observed(1, 1));
    observed.put(ServedModel.BASELINE, new Observed(1, 1));

    RolloutPlan plan =
        RolloutPlanner.plan(
            new RolloutPlanner.Inputs(
                "fedcba9876",
                Phase.PRUNING,
                spec("replicas", 3, 1, 50),
                RolloutPlannerTest.canaryAt(0, 50, RolloutPlannerTest.T0, 1, 0),
                observed,
                null,
                null,
                RolloutPlannerTest.T0),
            RolloutPlannerTest.NEVER);

    assertThat(plan.replicas()).containsEntry(ServedModel.DENSE, 3).doesNotContainKey(REV);
    assertThat(plan.retireOthers()).isTrue();
  }

  private static List<String> rollOut(RolloutSpec spec, double agreement) {
    return rollOut(spec, status -> agreement);
  }

  /** Runs the rollout to its end; every state's pods are checked against the cap on the way. */
  private static List<String> rollOut(
      RolloutSpec spec, java.util.function.Function<RolloutStatus, Double> agreement) {
    int cap = spec.replicas() + spec.maxExtraReplicas();
    Map<String, Observed> observed = new HashMap<>();
    observed.put(ServedModel.DENSE, new Observed(spec.replicas(), spec.replicas()));
    observed.put(ServedModel.BASELINE, new Observed(1, 1));
    Phase phase = Phase.GATE_PASSED;
    RolloutStatus current =
        RolloutStatus.from(null).stable(ServedModel.DENSE).message("serving").build();
    Instant now = RolloutPlannerTest.T0;
    List<String> trace = new ArrayList<>();
    for (int tick = 0; tick < 300; tick++) {
      RolloutStatus status = current;
      RolloutPlan plan =
          RolloutPlanner.plan(
              new RolloutPlanner.Inputs(REV, phase, spec, current, observed, null, null, now),
              () -> RolloutPlannerTest.verdict(agreement.apply(status)));
      Map<String, Observed> next = new HashMap<>();
      for (var e : observed.entrySet()) {
        if (!plan.retireOthers() || plan.replicas().containsKey(e.getKey())) {
          next.put(e.getKey(), e.getValue());
        }
      }
      // Pods asked for are Ready at the next look; pods taken away are gone at once.
      plan.replicas()
          .forEach(
              (key, replicas) -> {
                Observed was = observed.getOrDefault(key, new Observed(0, 0));
                next.put(key, new Observed(replicas, Math.min(replicas, was.replicas())));
              });
      int serving =
          next.entrySet().stream()
              .filter(e -> !e.getKey().equals(ServedModel.BASELINE))
              .mapToInt(e -> e.getValue().replicas())
              .sum();
      String state = plan.phase() + " " + new java.util.TreeMap<>(plan.replicas());
      trace.add(state);
      assertThat(serving).as("pods at %s; so far %s", state, trace).isLessThanOrEqualTo(cap);
      if (plan.phase() != Phase.ROLLING_OUT
          && next.values().stream().allMatch(o -> o.available() == o.replicas())
          && observed.equals(next)) {
        return trace;
      }
      observed.clear();
      observed.putAll(next);
      phase = plan.phase();
      current = plan.rollout();
      now = now.plusSeconds(10);
    }
    throw new AssertionError("the rollout did not settle: " + trace);
  }
}
