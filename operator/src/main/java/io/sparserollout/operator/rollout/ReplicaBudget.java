package io.sparserollout.operator.rollout;

/**
 * Pods for two served models now, while one grows to its target and the other shrinks to its
 * target, together never more than {@code cap} (replicas + maxExtraReplicas). The shrinking model
 * gives up a pod only as one of the growing model's pods is Ready, so serving capacity holds; where
 * the budget leaves the growing model no room at all (maxExtraReplicas 0), the shrinking one gives
 * up one pod at a time, and never its last while nothing else is Ready: capacity dips by a pod
 * while the replacement starts, traffic never finds no pod.
 *
 * @param growing pods for the growing model now
 * @param shrinking pods for the shrinking model now
 */
public record ReplicaBudget(int growing, int shrinking) {

  /**
   * @param cap most pods of the two together
   * @param growTarget pods the growing model ends with
   * @param growReady its pods Ready now
   * @param shrinkTarget pods the shrinking model ends with ({@code growTarget + shrinkTarget <=
   *     cap})
   * @param shrinkCurrent its pods now
   * @param shrinkFloor pods the shrinking model keeps however little room there is: 1 while a route
   *     still sends it traffic, 0 where one Service spreads traffic over both models' pods
   */
  public static ReplicaBudget next(
      int cap,
      int growTarget,
      int growReady,
      int shrinkTarget,
      int shrinkCurrent,
      int shrinkFloor) {
    // Keep enough of the shrinking model that the Ready pods still add up to both targets.
    int shrinking =
        Math.max(shrinkTarget, Math.min(shrinkCurrent, shrinkTarget + growTarget - growReady));
    // Over the cap (a smaller budget, a larger canary step): down to what fits beside the Ready.
    shrinking = Math.min(shrinking, Math.max(shrinkTarget, cap - growReady));
    int growing = Math.max(0, Math.min(growTarget, cap - shrinking));
    if (growing < growTarget
        && growReady >= growing
        && shrinking > Math.max(shrinkTarget, shrinkFloor)
        && shrinking - 1 + growReady >= 1) {
      // No room and nothing starting: make room for one pod.
      shrinking--;
      growing = Math.min(growTarget, cap - shrinking);
    }
    return new ReplicaBudget(growing, shrinking);
  }
}
