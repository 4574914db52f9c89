package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.operator.events.EventRecorder.Reason;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the rollout wants next.
 *
 * @param replicas desired replicas of the served models that stay (keyed by served model); a
 *     missing Deployment among them is created
 * @param retireOthers whether Deployments of every other served model are deleted now (only once
 *     the stable serves, so clients never meet a Service without endpoints); otherwise they are
 *     left as they are
 * @param routes traffic weights (percent) by served model, for an HTTPRoute (gateway-api mode); a
 *     canary's weight rises only once it is ready at the size the weight needs
 * @param requeue when to look again although nothing changed (step pauses, analysis interval)
 * @param trafficProblem why traffic cannot be routed as the spec asks (then nothing else was
 *     changed), or null
 */
public record RolloutPlan(
    Phase phase,
    RolloutStatus rollout,
    Map<String, Integer> replicas,
    boolean retireOthers,
    Map<String, Integer> routes,
    String message,
    List<Notice> events,
    Duration requeue,
    String trafficProblem) {

  /** Nothing changes: traffic cannot be routed as the spec asks; looked at again later. */
  static RolloutPlan blocked(
      io.sparserollout.api.v1alpha1.Phase phase, RolloutStatus rollout, String problem) {
    return new RolloutPlan(
        phase,
        rollout,
        Map.of(),
        false,
        Map.of(),
        problem,
        List.of(),
        Duration.ofSeconds(30),
        problem);
  }

  /** An event to record on the SparseModel. */
  public record Notice(Reason reason, String message) {}
}
