package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.rollout.RolloutPlanner.Observed;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.rollout.replicas changing under a canary step, as an HPA (or kubectl scale) changes it: the
 * step's bigger canary gets its own time to become Ready, and the traffic already on the canary
 * stays there meanwhile.
 */
class RolloutResizeTest {
  private static final String REV = RolloutPlannerTest.REV;
  private static final Instant T0 = RolloutPlannerTest.T0;

  /** Manual promotion, so a step can outlast progressDeadline (5m) while it waits. */
  private static RolloutSpec spec(String trafficMode, int replicas, Integer extra) {
    return Fixtures.minilm(
            s -> {
              var rollout = s.with("rollout");
              rollout.put("replicas", replicas).put("autoPromote", false);
              rollout.put("trafficMode", trafficMode).put("progressDeadline", "5m");
              if (extra != null) {
                rollout.put("maxExtraReplicas", extra);
              }
              if (trafficMode.equals("gateway-api")) {
                rollout.with("gateway").put("name", "inference");
              }
              var steps = rollout.with("canary").putArray("steps");
              steps.addObject().put("weight", 50).put("pause", "1m");
              steps.addObject().put("weight", 100).put("pause", "1m");
              rollout.with("analysis").put("interval", "20s");
            })
        .getSpec()
        .rollout();
  }

  private static Map<String, Observed> serving(int stable, int canaryPods, int canaryReady) {
    Map<String, Observed> observed = new HashMap<>();
    observed.put(ServedModel.DENSE, new Observed(stable, stable));
    observed.put(REV, new Observed(canaryPods, canaryReady));
    observed.put(ServedModel.BASELINE, new Observed(1, 1));
    return observed;
  }

  private static RolloutPlan plan(
      RolloutSpec spec, RolloutStatus current, Map<String, Observed> observed, Instant now) {
    return RolloutPlanner.plan(
        new RolloutPlanner.Inputs(REV, Phase.ROLLING_OUT, spec, current, observed, null, null, now),
        () -> RolloutPlannerTest.verdict(0.99));
  }

  @Test
  void aCanaryEnlargedPastTheStepsDeadlineGetsItsOwnDeadlineNotARollback() {
    // The last step, every pod Ready, waiting for promotion long past progressDeadline.
    RolloutStatus waiting =
        plan(
                spec("replicas", 2, null),
                RolloutPlannerTest.canaryAt(1, 100, T0, 1, 0),
                serving(0, 2, 2),
                T0.plusSeconds(20 * 60))
            .rollout();

    // The HPA asks for 4: the canary has 2 of them Ready.
    RolloutPlan enlarged =
        plan(spec("replicas", 4, null), waiting, serving(0, 4, 2), T0.plusSeconds(20 * 60 + 15));
    assertThat(enlarged.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(enlarged.replicas()).containsEntry(REV, 4);
    assertThat(enlarged.message()).contains("2 of 4 canary pods ready");

    // The new pods never become Ready: rolled back once progressDeadline has passed since then.
    RolloutPlan stillShort =
        plan(
            spec("replicas", 4, null),
            enlarged.rollout(),
            serving(0, 4, 2),
            T0.plusSeconds(20 * 60 + 4 * 60));
    assertThat(stillShort.phase()).isEqualTo(Phase.ROLLING_OUT);
    RolloutPlan late =
        plan(
            spec("replicas", 4, null),
            stillShort.rollout(),
            serving(0, 4, 2),
            T0.plusSeconds(20 * 60 + 5 * 60 + 15));
    assertThat(late.phase()).isEqualTo(Phase.ROLLED_BACK);
  }

  @Test
  void whileAnEnlargedCanaryStartsItsPodsTheRouteKeepsItsTrafficOnTheCanary() {
    // Routed, one extra pod, at the 100% step with every canary pod Ready: the route is at 100.
    RolloutPlan atFull =
        plan(
            spec("gateway-api", 4, 1),
            RolloutPlannerTest.canaryAt(1, 100, T0, 1, 0),
            serving(1, 4, 4),
            T0.plusSeconds(30));
    assertThat(atFull.routes()).containsEntry(REV, 100).containsEntry(ServedModel.DENSE, 0);

    // The HPA asks for 6 under load: the stable's one pod must not take half the traffic back.
    RolloutPlan enlarged =
        plan(spec("gateway-api", 6, 1), atFull.rollout(), serving(1, 4, 4), T0.plusSeconds(45));
    assertThat(enlarged.phase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(enlarged.routes()).containsEntry(REV, 100).containsEntry(ServedModel.DENSE, 0);
  }
}
