package io.sparserollout.operator.rollout;

/**
 * Replica-proportional traffic split behind one Service: the canary gets its share of the replicas
 * (at least one pod while its weight is above zero), the stable keeps the rest and at least one pod
 * until the canary takes all traffic, so a Service never has zero endpoints.
 */
public record TrafficSplit(int stable, int canary) {

  public static TrafficSplit of(int replicas, int canaryWeight) {
    if (canaryWeight <= 0) {
      return new TrafficSplit(replicas, 0);
    }
    if (canaryWeight >= 100) {
      return new TrafficSplit(0, replicas);
    }
    int canary = Math.max(1, (int) Math.ceil(replicas * canaryWeight / 100.0));
    return new TrafficSplit(Math.max(1, replicas - canary), canary);
  }
}
