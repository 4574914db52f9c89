package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.api.v1alpha1.ArtifactReuse;
import io.sparserollout.api.v1alpha1.Condition;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.PhaseTransition;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.StageCompletion;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the status the operator wants to see from the current one. Time enters only through
 * transitions (a new phase, a condition changing status), so an unchanged world yields an equal
 * status and the reconciler skips the patch.
 */
public final class StatusAggregator {
  public static final String READY = "Ready";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";
  public static final String SPEC_VALID = "SpecValid";
  public static final String GPU_PLACEMENT = "GpuPlacement";
  public static final String TRAFFIC_ROUTING = "TrafficRouting";

  /** True while the cluster keeps the running stage's pod from being created or started. */
  public static final String STAGE_BLOCKED = "StageBlocked";

  /** False while a name the rollout needs is taken by a resource this model does not control. */
  public static final String RESOURCES_OWNED = "ResourcesOwned";

  /** True while a promoted model's shadow agreement stays below minAgreement (DriftWatch). */
  public static final String QUALITY_DRIFT = "QualityDrift";

  private final Clock clock;

  public StatusAggregator(Clock clock) {
    this.clock = clock;
  }

  /** A working copy of the resource's status that records the generation being handled. */
  public SparseModelStatus begin(SparseModel model) {
    SparseModelStatus copy = copyOf(model.getStatus());
    copy.setObservedGeneration(model.getMetadata().getGeneration());
    return copy;
  }

  /** Switches to a new pipeline revision: results of the previous one no longer apply. */
  public void startRevision(SparseModelStatus status, String revision) {
    status.setRevision(revision);
    status.setPruning(null);
    status.setCapturedData(null);
    status.setEngine(null);
    status.setProgress(null);
    status.setGate(null);
    status.setVariants(null);
    status.setCompletedStages(new ArrayList<>());
    status.setArtifactKey(null);
    status.setReusedFrom(null);
    status.setArtifactRun(null);
    enter(status, Phase.PENDING, "revision " + revision + " of the spec");
  }

  /**
   * Takes another model's finished results of the same revision and artifact key: its pruning,
   * engine and gate results and its completed stages, so no stage runs again.
   */
  public void reuse(SparseModelStatus status, SparseModel donor) {
    SparseModelStatus from = donor.getStatus();
    status.setPruning(from.getPruning());
    status.setEngine(from.getEngine());
    status.setGate(from.getGate());
    status.setVariants(from.getVariants());
    status.setCompletedStages(new ArrayList<>(from.getCompletedStages()));
    status.setReusedFrom(
        new ArtifactReuse(donor.getMetadata().getName(), from.getArtifactKey(), now()));
  }

  /** Records that a stage's result is in status: it is not judged again for this revision. */
  public void complete(SparseModelStatus status, String stage, Job job, String sha256) {
    status
        .getCompletedStages()
        .add(
            new StageCompletion(
                stage,
                job == null ? null : job.getMetadata().getName(),
                job == null ? null : job.getMetadata().getUid(),
                now(),
                sha256));
  }

  /** Whether the stage's result was recorded for the current revision. */
  public static boolean completed(SparseModelStatus status, String stage) {
    return status.getCompletedStages().stream().anyMatch(c -> stage.equals(c.stage()));
  }

  /** Moves to {@code phase}, recording the transition; staying in a phase records nothing. */
  public void enter(SparseModelStatus status, Phase phase, String message) {
    if (status.getPhase() == phase) {
      return;
    }
    status.setPhase(phase);
    appendHistory(
        status,
        new PhaseTransition(phase, status.getRevision(), now(), SparseModelStatus.capped(message)));
  }

  /** The Ready, Progressing and Degraded conditions that follow from the phase. */
  public void summarize(SparseModelStatus status, String message) {
    long generation = status.getObservedGeneration();
    Phase phase = status.getPhase();
    boolean ready = phase == Phase.GATE_PASSED || phase == Phase.PROMOTED;
    boolean failed =
        phase == Phase.FAILED || phase == Phase.GATE_FAILED || phase == Phase.ROLLED_BACK;
    String reason = reason(phase);
    setCondition(status, READY, ready ? "True" : "False", reason, message, generation);
    setCondition(
        status,
        PROGRESSING,
        phase.isTerminal() || ready ? "False" : "True",
        reason,
        message,
        generation);
    setCondition(
        status,
        DEGRADED,
        failed ? "True" : "False",
        reason,
        failed ? message : "no failure",
        generation);
  }

  /**
   * Replaces the condition of the same type; lastTransitionTime moves only when status does.
   * Messages are never empty: the 1.20 API server's server-side apply turns "" into null, which the
   * schema then rejects.
   */
  public void setCondition(
      SparseModelStatus status,
      String type,
      String value,
      String reason,
      String message,
      long generation) {
    List<Condition> conditions = new ArrayList<>(status.getConditions());
    Condition previous =
        conditions.stream().filter(c -> type.equals(c.type())).findFirst().orElse(null);
    String since =
        previous != null && value.equals(previous.status()) ? previous.lastTransitionTime() : now();
    int at = previous == null ? conditions.size() : conditions.indexOf(previous);
    conditions.remove(previous);
    conditions.add(
        at,
        new Condition(type, value, reason, SparseModelStatus.capped(message), since, generation));
    status.setConditions(conditions);
  }

  /**
   * Sets a False condition naming a problem; true when the condition was not already False, so the
   * caller records its Warning event once, not at every reconcile.
   */
  public boolean setProblem(
      SparseModelStatus status, String type, String reason, String message, long generation) {
    boolean known =
        status.getConditions().stream()
            .anyMatch(c -> c.type().equals(type) && c.status().equals("False"));
    setCondition(status, type, "False", reason, message, generation);
    return !known;
  }

  /**
   * Sets StageBlocked=True with the reason; true when the reason is new (not already the blocked
   * reason), so the caller records its Warning event once per cause.
   */
  public boolean setBlocked(
      SparseModelStatus status, String reason, String message, long generation) {
    boolean known =
        status.getConditions().stream()
            .anyMatch(c -> c.type().equals(STAGE_BLOCKED) && reason.equals(c.reason()));
    setCondition(status, STAGE_BLOCKED, "True", reason, message, generation);
    return !known;
  }

  public void removeCondition(SparseModelStatus status, String type) {
    List<Condition> conditions = new ArrayList<>(status.getConditions());
    conditions.removeIf(c -> type.equals(c.type()));
    status.setConditions(conditions);
  }

  static void appendHistory(SparseModelStatus status, PhaseTransition transition) {
    List<PhaseTransition> history = new ArrayList<>(status.getHistory());
    history.add(transition);
    int overflow = history.size() - SparseModelStatus.HISTORY_LIMIT;
    status.setHistory(new ArrayList<>(history.subList(Math.max(0, overflow), history.size())));
  }

  private static String reason(Phase phase) {
    String json = phase.name();
    StringBuilder out = new StringBuilder();
    for (String part : json.split("_")) {
      out.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return out.toString();
  }

  private static SparseModelStatus copyOf(SparseModelStatus current) {
    SparseModelStatus copy = new SparseModelStatus();
    if (current != null) {
      copy.setPhase(current.getPhase());
      copy.setObservedGeneration(current.getObservedGeneration());
      copy.setRevision(current.getRevision());
      copy.setConditions(new ArrayList<>(current.getConditions()));
      copy.setPruning(current.getPruning());
      copy.setCapturedData(current.getCapturedData());
      copy.setDrift(current.getDrift());
      copy.setRecalibration(current.getRecalibration());
      copy.setCaptureEpoch(current.getCaptureEpoch());
      copy.setGate(current.getGate());
      copy.setEngine(current.getEngine());
      copy.setRollout(current.getRollout());
      copy.setCompletedStages(
          new ArrayList<>(
              current.getCompletedStages() == null ? List.of() : current.getCompletedStages()));
      copy.setHistory(new ArrayList<>(current.getHistory()));
      copy.setArtifactKey(current.getArtifactKey());
      copy.setReusedFrom(current.getReusedFrom());
      copy.setArtifactRun(current.getArtifactRun());
      copy.setVariants(current.getVariants());
      copy.setProgress(current.getProgress());
    }
    return copy;
  }

  private String now() {
    return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
