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
 * @param nameTaken why a resource beside the serving ones (the HPA) is not the model's to write,
 *     while the rollout itself went on; or null
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
    String trafficProblem,
    String nameTaken) {

  /** A plan that keeps {@code phase} and writes {@code rollout}; the builder names the rest. */
  static Builder of(Phase phase, RolloutStatus rollout) {
    return new Builder(phase, rollout);
  }

  /** The same plan writing another rollout status. */
  RolloutPlan withRollout(RolloutStatus status) {
    return with(status, nameTaken);
  }

  /** The same plan, reporting a resource beside the serving ones that is somebody else's. */
  RolloutPlan withNameTaken(String problem) {
    return with(rollout, problem);
  }

  private RolloutPlan with(RolloutStatus status, String taken) {
    return new RolloutPlan(
        phase,
        status,
        replicas,
        retireOthers,
        routes,
        message,
        events,
        requeue,
        trafficProblem,
        taken);
  }

  /** Nothing moves this time (the rollout keeps its state); looked at again in a minute. */
  public static RolloutPlan held(Phase phase, RolloutStatus rollout, String message) {
    return of(phase, rollout).message(message).requeue(Duration.ofSeconds(60)).build();
  }

  /** Nothing changes: traffic cannot be routed as the spec asks; looked at again later. */
  static RolloutPlan blocked(Phase phase, RolloutStatus rollout, String problem) {
    return of(phase, rollout)
        .retireOthers(false)
        .message(problem)
        .requeue(Duration.ofSeconds(30))
        .trafficProblem(problem)
        .build();
  }

  /** Defaults: no replicas, no routes, nothing retired, no events, no requeue, no problem. */
  static final class Builder {
    private final Phase phase;
    private final RolloutStatus rollout;
    private Map<String, Integer> replicas = Map.of();
    private boolean retireOthers;
    private Map<String, Integer> routes = Map.of();
    private String message;
    private List<Notice> events = List.of();
    private Duration requeue;
    private String trafficProblem;

    private Builder(Phase phase, RolloutStatus rollout) {
      this.phase = phase;
      this.rollout = rollout;
    }

    Builder replicas(Map<String, Integer> byServedModel) {
      replicas = byServedModel;
      return this;
    }

    Builder retireOthers(boolean now) {
      retireOthers = now;
      return this;
    }

    Builder routes(Map<String, Integer> weights) {
      routes = weights;
      return this;
    }

    Builder message(String text) {
      message = text;
      return this;
    }

    Builder events(List<Notice> notices) {
      events = notices;
      return this;
    }

    Builder requeue(Duration after) {
      requeue = after;
      return this;
    }

    Builder trafficProblem(String problem) {
      trafficProblem = problem;
      return this;
    }

    RolloutPlan build() {
      return new RolloutPlan(
          phase,
          rollout,
          replicas,
          retireOthers,
          routes,
          message,
          events,
          requeue,
          trafficProblem,
          null);
    }
  }

  /** An event to record on the SparseModel. */
  public record Notice(Reason reason, String message) {}
}
