package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.api.v1alpha1.ConfidenceInterval;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.rollout.RolloutPlan.Notice;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Chooses the rollout's next move from the current state, as a pure function: start a canary once
 * the gate passes, hold each step for its pause while analysis runs, then promote; roll back when
 * analysis fails too often, the canary never becomes ready, or a user aborts. The stable revision
 * keeps serving through everything, including pipelines of newer revisions.
 *
 * <p>Over 300 lines on purpose: the whole canary state machine (start, steps, analysis, promotion,
 * rollback, supersession) reads as one pure function, and RolloutPlannerTest walks it.
 */
public final class RolloutPlanner {
  public static final String PROMOTE_ANNOTATION = "sparserollout.io/promote";
  public static final String ABORT_ANNOTATION = "sparserollout.io/abort";
  static final Duration READINESS_POLL = Duration.ofSeconds(10);

  /** What the planner sees of one served model's Deployment. */
  public record Observed(int replicas, int available) {}

  /**
   * @param revision the pipeline revision whose gate result is current
   * @param phase the phase the pipeline reached for it
   * @param observed Deployments by served model (revision, dense or baseline)
   * @param promote value of the promote annotation (a revision), or null
   * @param abort value of the abort annotation (a revision), or null
   */
  public record Inputs(
      String revision,
      Phase phase,
      RolloutSpec spec,
      RolloutStatus current,
      Map<String, Observed> observed,
      String promote,
      String abort,
      Instant now) {

    int available(String key) {
      Observed o = key == null ? null : observed.get(key);
      return o == null ? 0 : o.available();
    }

    int replicasOf(String key) {
      Observed o = key == null ? null : observed.get(key);
      return o == null ? 0 : o.replicas();
    }

    String stamp() {
      return now.truncatedTo(ChronoUnit.SECONDS).toString();
    }
  }

  /** How soon to look again while a measurement is in flight, should its event be lost. */
  static final Duration MEASURING_POLL = Duration.ofSeconds(5);

  private RolloutPlanner() {}

  /**
   * @param analyze measures the canary now; called only when an analysis is due
   */
  public static RolloutPlan plan(Inputs in, Supplier<AnalysisVerdict> analyze) {
    return planWith(in, () -> Optional.of(analyze.get()));
  }

  /**
   * @param measured the canary's latest measurement, taken off the reconcile thread: called only
   *     when an analysis is due; empty while it is still being taken (a reconcile follows when it
   *     is done)
   */
  public static RolloutPlan planWith(Inputs in, Supplier<Optional<AnalysisVerdict>> measured) {
    return switch (in.phase()) {
      case GATE_PASSED -> in.spec().replicas() == 0 ? notServed(in) : start(in);
      case ROLLING_OUT -> progress(in, measured);
      case PROMOTED -> promoted(in, RolloutStatus.from(in.current()), List.of());
      case ROLLED_BACK -> rolledBack(in, RolloutStatus.from(in.current()), List.of());
      default -> keepStable(in);
    };
  }

  /** A newer revision is in its pipeline (or failed it): the stable serves, any canary goes. */
  private static RolloutPlan keepStable(Inputs in) {
    RolloutStatus.Builder d = RolloutStatus.from(in.current());
    List<Notice> events = new ArrayList<>();
    if (d.canary() != null && !d.canary().equals(in.revision())) {
      if (d.weight() != null && d.weight() > 0) {
        d.message(
            "canary " + d.canary() + " stopped: revision " + in.revision() + " supersedes it");
        events.add(new Notice(Reason.CANARY_SUPERSEDED, d.message()));
      }
      d.clearCanary();
    }
    Map<String, Integer> replicas = new LinkedHashMap<>();
    boolean retire = d.stable() == null || in.available(d.stable()) >= 1;
    if (d.stable() != null) {
      replicas.put(d.stable(), in.spec().replicas());
      if (cap(in) != null) {
        // Under a budget the stable grows only as what else serves gives up its pods; the rest
        // go as before once a stable pod serves and the budget no longer holds the stable back.
        ReplicaBudget pods = replaceWithinBudget(in, replicas, d.stable(), false);
        retire =
            in.available(d.stable()) >= 1
                && (pods.growing() >= in.spec().replicas() || pods.shrinking() == 0);
        if (retire) {
          replicas.keySet().removeIf(k -> !k.equals(d.stable()) && !k.equals(ServedModel.BASELINE));
        }
      }
      replicas.put(ServedModel.BASELINE, 1);
    }
    return RolloutPlan.of(in.phase(), in.current() == null ? null : d.build())
        .replicas(replicas)
        .retireOthers(retire)
        .routes(d.stable() == null ? Map.of() : routes(d.stable(), null, 0))
        .events(events)
        .build();
  }

  private static RolloutPlan notServed(Inputs in) {
    return RolloutPlan.of(Phase.GATE_PASSED, in.current())
        .retireOthers(true)
        .message("gate passed; not served: spec.rollout.replicas is 0")
        .build();
  }

  private static RolloutPlan start(Inputs in) {
    RolloutStatus.Builder d = RolloutStatus.from(in.current());
    if (in.revision().equals(d.stable())) {
      return promoted(in, d, List.of());
    }
    d.clearCanary();
    d.stable(d.stable() == null ? ServedModel.DENSE : d.stable());
    d.canary(in.revision());
    d.step(0);
    d.routedWeight(0);
    d.weight(CanaryPlan.of(in.spec()).step(0).weight());
    d.stepStartedAt(in.stamp());
    d.passed(0);
    d.failures(0);
    d.measured(null, null, null);
    d.evidence(null, null, null, null);
    d.message("canary " + d.canary() + " started at " + d.weight() + "% against " + d.stable());
    Map<String, Integer> replicas = new LinkedHashMap<>();
    replicas.put(d.stable(), Math.max(in.spec().replicas(), in.replicasOf(d.stable())));
    replicas.put(d.canary(), TrafficSplit.of(in.spec().replicas(), d.weight()).canary());
    withinBudget(in, replicas, d.stable(), d.canary(), d.weight(), 0);
    replicas.put(ServedModel.BASELINE, 1);
    return RolloutPlan.of(Phase.ROLLING_OUT, d.build())
        .replicas(replicas)
        .routes(routes(d.stable(), d.canary(), 0))
        .message(d.message())
        .events(List.of(new Notice(Reason.CANARY_STARTED, d.message())))
        .requeue(READINESS_POLL)
        .build();
  }

  private static RolloutPlan progress(Inputs in, Supplier<Optional<AnalysisVerdict>> measured) {
    RolloutStatus.Builder d = RolloutStatus.from(in.current());
    if (in.revision().equals(in.abort())) {
      return rollBack(in, d, "aborted by the " + ABORT_ANNOTATION + " annotation");
    }
    if (in.revision().equals(in.promote())) {
      return promote(in, d, "promoted by the " + PROMOTE_ANNOTATION + " annotation");
    }
    CanaryPlan steps = CanaryPlan.of(in.spec());
    d.weight(steps.step(d.step()).weight());
    int routedBefore = d.step() == 0 ? 0 : steps.step(d.step() - 1).weight();
    // Once this step's canary was Ready the route carries the step's weight, and keeps it while
    // more canary pods start for larger replicas: the stable may have given up its pods by then.
    int routedNow = d.routedWeight() == null ? routedBefore : d.routedWeight();
    TrafficSplit split = split(in, d.weight());
    Instant stepStart = Instant.parse(d.stepStartedAt());
    Map<String, Integer> replicas = new LinkedHashMap<>();
    replicas.put(ServedModel.BASELINE, 1);
    replicas.put(d.canary(), split.canary());

    int canaryReady = in.available(d.canary());
    resized(in, d, split.canary(), canaryReady);
    boolean baselineReady = in.available(ServedModel.BASELINE) >= 1;
    if (canaryReady < split.canary() || !baselineReady) {
      Instant since =
          d.canaryPodsSince() == null
              ? stepStart
              : later(stepStart, Instant.parse(d.canaryPodsSince()));
      Instant deadline = since.plus(GoDuration.parse(in.spec().progressDeadline()));
      String waiting =
          canaryReady
              + " of "
              + split.canary()
              + " canary pods ready"
              + (baselineReady ? "" : ", the dense baseline not ready");
      if (!in.now().isBefore(deadline)) {
        return rollBack(
            in, d, "canary not ready within " + in.spec().progressDeadline() + ": " + waiting);
      }
      // The stable is not scaled down before the canary can take its share.
      replicas.put(d.stable(), Math.max(split.stable(), in.replicasOf(d.stable())));
      withinBudget(in, replicas, d.stable(), d.canary(), d.weight(), routedNow);
      d.message("step " + d.step() + " (" + d.weight() + "%): waiting, " + waiting);
      return rollingOut(
          in,
          d,
          replicas,
          routedNow,
          List.of(),
          min(READINESS_POLL, Duration.between(in.now(), deadline)));
    }
    replicas.put(d.stable(), split.stable());
    int routed = d.weight();
    d.routedWeight(routed);
    withinBudget(in, replicas, d.stable(), d.canary(), d.weight(), routed);

    List<Notice> events = new ArrayList<>();
    AnalysisSpec analysis = in.spec().analysis();
    Duration interval = GoDuration.parse(analysis.interval());
    Instant lastAnalysis =
        d.lastAnalysisAt() == null ? stepStart : Instant.parse(d.lastAnalysisAt());
    boolean analysed = false;
    Optional<AnalysisVerdict> taken =
        in.now().isBefore(lastAnalysis.plus(interval)) ? null : measured.get();
    boolean measuring = taken != null && taken.isEmpty();
    if (taken != null && taken.isPresent()) {
      AnalysisVerdict verdict = taken.get();
      analysed = true;
      if (d.analysisStartedAt() == null) {
        d.analysisStartedAt(in.stamp());
      }
      d.lastAnalysisAt(in.stamp());
      lastAnalysis = in.now;
      measured(d, verdict);
      d.message("step " + d.step() + " (" + d.weight() + "%): " + verdict.message());
      switch (verdict.outcome()) {
        case PASSED -> d.passed(d.passed() + 1);
        case FAILED -> {
          d.failures(d.failures() + 1);
          if (d.failures() > analysis.failureLimit()) {
            return rollBack(in, d, "analysis failed: " + verdict.message());
          }
          events.add(
              new Notice(
                  Reason.ANALYSIS_FAILED,
                  verdict.message()
                      + " ("
                      + d.failures()
                      + " of "
                      + analysis.failureLimit()
                      + " tolerated failures)"));
        }
        case INCONCLUSIVE -> {}
      }
    }
    // Counted from the step's first analysis: time spent waiting for ready pods is bounded by
    // progressDeadline, not by this.
    Duration inconclusiveLimit = GoDuration.parse(analysis.inconclusiveLimit());
    Instant analysisStart =
        d.analysisStartedAt() == null ? null : Instant.parse(d.analysisStartedAt());
    boolean paused = Boolean.TRUE.equals(d.awaitingPromotion());
    if (d.passed() == 0
        && analysisStart != null
        && !in.now().isBefore(analysisStart.plus(inconclusiveLimit))
        && (analysed || !paused)) {
      String why =
          "no passing analysis within "
              + analysis.inconclusiveLimit()
              + " of step "
              + d.step()
              + " ("
              + d.message()
              + ")";
      if (analysis.onInconclusive() != AnalysisSpec.OnInconclusive.PAUSE) {
        return rollBack(in, d, why);
      }
      if (!paused) {
        events.add(new Notice(Reason.ANALYSIS_INCONCLUSIVE, why));
      }
      d.awaitingPromotion(true);
      d.message(
          why
              + "; paused: annotate "
              + PROMOTE_ANNOTATION
              + "="
              + d.canary()
              + " or "
              + ABORT_ANNOTATION
              + "="
              + d.canary());
    }
    Instant stepEnd = stepStart.plus(steps.pause(d.step()));
    if (d.passed() > 0 && !in.now().isBefore(stepEnd)) {
      if (!steps.isLast(d.step())) {
        d.step(d.step() + 1);
        d.weight(steps.step(d.step()).weight());
        d.stepStartedAt(in.stamp());
        d.lastAnalysisAt(null);
        d.analysisStartedAt(null);
        d.passed(0);
        d.failures(0);
        d.awaitingPromotion(null);
        d.canaryPods(null, null);
        d.message("step " + d.step() + ": " + d.weight() + "% of traffic on the canary");
        events.add(new Notice(Reason.CANARY_STEP, d.message()));
        replicas.put(d.canary(), split(in, d.weight()).canary());
        withinBudget(in, replicas, d.stable(), d.canary(), d.weight(), routed);
        // Only once the bigger canary is ready do the stable shrink and the route shift.
        return rollingOut(in, d, replicas, routed, events, READINESS_POLL);
      }
      if (Boolean.TRUE.equals(in.spec().autoPromote())) {
        return promote(in, d, "every canary step passed");
      }
      d.awaitingPromotion(true);
      d.message(
          "every canary step passed; waiting for "
              + PROMOTE_ANNOTATION
              + "="
              + d.canary()
              + " (or "
              + ABORT_ANNOTATION
              + ")");
    }
    // While a measurement is being taken its completion asks for a reconcile; this is a fallback.
    Duration untilAnalysis =
        measuring ? MEASURING_POLL : Duration.between(in.now(), lastAnalysis.plus(interval));
    Duration untilStepEnd = Duration.between(in.now(), stepEnd);
    return rollingOut(
        in,
        d,
        replicas,
        routed,
        events,
        untilStepEnd.isNegative() ? untilAnalysis : min(untilAnalysis, untilStepEnd));
  }

  private static RolloutPlan rollingOut(
      Inputs in,
      RolloutStatus.Builder d,
      Map<String, Integer> replicas,
      int routedWeight,
      List<Notice> events,
      Duration requeue) {
    return RolloutPlan.of(Phase.ROLLING_OUT, d.build())
        .replicas(replicas)
        .routes(routes(d.stable(), d.canary(), routedWeight))
        .message(d.message())
        .events(events)
        .requeue(requeue.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : requeue)
        .build();
  }

  private static RolloutPlan promote(Inputs in, RolloutStatus.Builder d, String why) {
    String canary = d.canary();
    d.stable(canary);
    d.clearCanary();
    d.message("revision " + canary + " promoted: " + why);
    return promoted(in, d, List.of(new Notice(Reason.PROMOTED, d.message())));
  }

  /** The stable takes every replica; the rest go once it serves at full size. */
  private static RolloutPlan promoted(Inputs in, RolloutStatus.Builder d, List<Notice> events) {
    int total = in.spec().replicas();
    Map<String, Integer> replicas = new LinkedHashMap<>();
    replicas.put(d.stable(), total);
    replaceWithinBudget(in, replicas, d.stable(), in.available(d.stable()) >= total);
    replicas.put(ServedModel.BASELINE, 1);
    return RolloutPlan.of(Phase.PROMOTED, d.build())
        .replicas(replicas)
        .retireOthers(in.available(d.stable()) >= total)
        .routes(routes(d.stable(), null, 0))
        .message(d.message())
        .events(events)
        .build();
  }

  private static RolloutPlan rollBack(Inputs in, RolloutStatus.Builder d, String why) {
    d.weight(0);
    d.routedWeight(0);
    d.awaitingPromotion(null);
    d.message("canary " + d.canary() + " rolled back to " + d.stable() + ": " + why);
    return rolledBack(in, d, List.of(new Notice(Reason.ROLLED_BACK, d.message())));
  }

  /**
   * Traffic back to the stable at full size; the canary is scaled to zero (its GPUs released) as
   * soon as a stable pod serves, and kept at zero replicas for inspection.
   */
  private static RolloutPlan rolledBack(Inputs in, RolloutStatus.Builder d, List<Notice> events) {
    Map<String, Integer> replicas = new LinkedHashMap<>();
    replicas.put(d.stable(), in.spec().replicas());
    replicas.put(ServedModel.BASELINE, 1);
    boolean stableServes = in.available(d.stable()) >= 1;
    if (d.canary() != null && stableServes) {
      replicas.put(d.canary(), 0);
    }
    Integer cap = cap(in);
    if (cap != null && d.canary() != null && !stableServes) {
      // The canary's pods count until they go: it gives up pods for the stable's (one at a time
      // where there is no room) and goes altogether once a stable pod serves.
      ReplicaBudget pods =
          ReplicaBudget.next(
              cap, in.spec().replicas(), in.available(d.stable()), 0, in.replicasOf(d.canary()), 0);
      replicas.put(d.stable(), pods.growing());
      replicas.put(d.canary(), pods.shrinking());
    }
    return RolloutPlan.of(Phase.ROLLED_BACK, d.build())
        .replicas(replicas)
        .retireOthers(stableServes)
        .routes(routes(d.stable(), d.canary(), 0))
        .message(d.message())
        .events(events)
        .requeue(stableServes ? null : READINESS_POLL)
        .build();
  }

  /**
   * Replica counts for a canary weight. Behind an HTTPRoute the weights split the traffic, so the
   * stable keeps every replica until promotion; behind one Service the replica counts are the
   * split.
   */
  private static TrafficSplit split(Inputs in, int weight) {
    int replicas = in.spec().replicas();
    TrafficSplit split = TrafficSplit.of(replicas, weight);
    Integer cap = cap(in);
    int canary = cap == null || weight >= 100 ? split.canary() : Math.min(split.canary(), cap - 1);
    if (in.spec().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API) {
      return new TrafficSplit(cap == null ? replicas : Math.min(replicas, cap - canary), canary);
    }
    return cap == null
        ? split
        : new TrafficSplit(weight >= 100 ? 0 : Math.max(1, replicas - canary), canary);
  }

  /** replicas + maxExtraReplicas: the most pods the stable and the canary may have together. */
  private static Integer cap(Inputs in) {
    Integer extra = in.spec().maxExtraReplicas();
    return extra == null ? null : in.spec().replicas() + extra;
  }

  /**
   * With a budget, the stable's and the canary's pods now for the weight: the canary grows into the
   * room there is and the stable gives up pods as the canary's are Ready ({@link ReplicaBudget}).
   * Behind an HTTPRoute the stable keeps a pod while the route sends it traffic.
   */
  private static void withinBudget(
      Inputs in,
      Map<String, Integer> replicas,
      String stable,
      String canary,
      int weight,
      int routedToCanary) {
    Integer cap = cap(in);
    if (cap == null) {
      return;
    }
    TrafficSplit targets = split(in, weight);
    boolean routed = in.spec().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API;
    ReplicaBudget pods =
        ReplicaBudget.next(
            cap,
            targets.canary(),
            in.available(canary),
            targets.stable(),
            in.replicasOf(stable),
            routed && routedToCanary < 100 ? 1 : 0);
    replicas.put(canary, pods.growing());
    replicas.put(stable, pods.shrinking());
  }

  /**
   * With a budget, the stable grows to its replicas while every other serving model (the old stable
   * after a promotion, a superseded canary) gives up its pods as the stable's are Ready.
   */
  private static ReplicaBudget replaceWithinBudget(
      Inputs in, Map<String, Integer> replicas, String stable, boolean retiring) {
    Integer cap = cap(in);
    if (cap == null) {
      return null;
    }
    List<String> others =
        in.observed().keySet().stream()
            .filter(k -> !k.equals(stable) && !k.equals(ServedModel.BASELINE))
            .filter(k -> in.replicasOf(k) > 0)
            .sorted()
            .toList();
    int current = others.stream().mapToInt(in::replicasOf).sum();
    ReplicaBudget pods =
        ReplicaBudget.next(cap, in.spec().replicas(), in.available(stable), 0, current, 0);
    replicas.put(stable, pods.growing());
    // What the others keep, taken from the first of them; the rest have none left. Once the
    // stable serves in full they are left out, and so deleted.
    int left = pods.shrinking();
    for (String other : others) {
      int keep = Math.min(left, in.replicasOf(other));
      if (!retiring) {
        replicas.put(other, keep);
      }
      left -= keep;
    }
    return pods;
  }

  private static Map<String, Integer> routes(String stable, String canary, int canaryWeight) {
    Map<String, Integer> routes = new LinkedHashMap<>();
    routes.put(stable, 100 - canaryWeight);
    if (canary != null) {
      routes.put(canary, canaryWeight);
    }
    return routes;
  }

  /** The latest measurement, rounded for status; a non-finite value is left out. */
  private static void measured(RolloutStatus.Builder d, AnalysisVerdict verdict) {
    Measurement m = verdict.measurement();
    d.measured(round(m.agreement(), 4), round(m.errorRate(), 4), round(m.p99Ms(), 1));
    d.evidence(
        interval(verdict.agreement()),
        interval(verdict.errorRate()),
        Math.round(m.requests()),
        Math.round(m.agreementCount()));
  }

  private static ConfidenceInterval interval(Confidence.Interval interval) {
    return interval == null || !interval.known()
        ? null
        : new ConfidenceInterval(round(interval.low(), 4), round(interval.high(), 4));
  }

  private static Double round(double value, int digits) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return null;
    }
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  /**
   * Records the canary pods the step asks for. When they grow within the step (the replicas grew:
   * an autoscaler) after the canary was Ready at its earlier size, progressDeadline counts again
   * from now, so the new pods get their own time; a canary never Ready keeps its first deadline.
   */
  private static void resized(Inputs in, RolloutStatus.Builder d, int wanted, int ready) {
    Integer before = d.canaryPods();
    if (before != null && before == wanted) {
      return;
    }
    boolean grewOnceReady = before != null && wanted > before && ready >= before;
    d.canaryPods(wanted, grewOnceReady ? in.stamp() : d.canaryPodsSince());
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
