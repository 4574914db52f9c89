package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Observed state, written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Observed state of the pipeline, written only by the operator.")
public class SparseModelStatus {
  /** Transitions kept in {@link #history}; older ones are dropped first. */
  public static final int HISTORY_LIMIT = 20;

  /** The longest message a condition, a transition or the rollout carries; longer ones are cut. */
  public static final int MESSAGE_LIMIT = 1024;

  /** {@code message} cut to {@link #MESSAGE_LIMIT} characters (null stays null). */
  public static String capped(String message) {
    return message == null || message.length() <= MESSAGE_LIMIT
        ? message
        : message.substring(0, MESSAGE_LIMIT - 3) + "...";
  }

  @JsonPropertyDescription("Current stage of the pipeline for the current revision.")
  private Phase phase;

  @JsonPropertyDescription("metadata.generation of the spec this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Revision being processed: a hash of the spec; artifacts and Jobs are named after it.")
  private String revision;

  @JsonPropertyDescription(
      "Latest observations: Ready, Progressing, Degraded, GpuPlacement, SpecValid, and"
          + " QualityDrift while a promoted model's agreement stays below minAgreement.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Result of pruning (and fine-tuning) the current revision.")
  private PruningStatus pruning;

  @JsonPropertyDescription("Dense and sparse metrics and the gate's verdict.")
  private GateStatus gate;

  @JsonPropertyDescription(
      "How many captured samples the revision calibrated and was evaluated on, and from which"
          + " hours; absent when it read files only.")
  private CapturedDataStatus capturedData;

  @JsonPropertyDescription("The engine built for serving.")
  private EngineStatus engine;

  @JsonPropertyDescription(
      "The promoted model's shadow agreement watched after promotion"
          + " (spec.rollout.analysis.driftWindow); absent without the watch.")
  private DriftStatus drift;

  @JsonPropertyDescription(
      "Recalibrations spec.rollout.analysis.autoRecalibrate started; absent when none has.")
  private RecalibrationStatus recalibration;

  @JsonPropertyDescription(
      "Revisions started that read captured samples, after the model's first: part of their"
          + " revision, so such a pipeline never runs again under an earlier revision's name.")
  private Integer captureEpoch;

  @JsonPropertyDescription(
      "How far the running stage has come, read from its pod every 15 s while it runs"
          + " (fine-tuning reports it); absent otherwise.")
  private StageProgressStatus progress;

  @JsonPropertyDescription("Canary rollout progress.")
  private RolloutStatus rollout;

  @JsonPropertyDescription(
      "Stages of the current revision whose results are recorded above; a recorded stage is never"
          + " judged again, even once its Job's pods are gone.")
  private List<StageCompletion> completedStages = new ArrayList<>();

  @JsonPropertyDescription("Most recent phase transitions, oldest first (at most 20).")
  private List<PhaseTransition> history = new ArrayList<>();

  @JsonPropertyDescription(
      "Content address of the revision's artifacts: a 128-bit hash of the pipeline settings"
          + " (store access included) and the stage image (the backends' versions). Another SparseModel of the namespace with the same key"
          + " reuses them instead of running its own stages.")
  private String artifactKey;

  @JsonPropertyDescription(
      "Set when this revision's results and artifacts were reused from another SparseModel: no"
          + " stage Job ran for it.")
  private ArtifactReuse reusedFrom;

  @JsonPropertyDescription(
      "Folder of this run of the revision under <store>/<namespace>/<name>/<revision>/ (the"
          + " model's uid and the start time): a revision run again writes beside the files an"
          + " earlier run left, which another model may still serve.")
  private String artifactRun;

  @JsonPropertyDescription(
      "Every variant the pipeline built and measured on the serving hardware, with its quality,"
          + " its speed and why it was or was not chosen.")
  private List<VariantStatus> variants;

  public List<VariantStatus> getVariants() {
    return variants;
  }

  public void setVariants(List<VariantStatus> variants) {
    this.variants = variants;
  }

  public String getArtifactRun() {
    return artifactRun;
  }

  public void setArtifactRun(String artifactRun) {
    this.artifactRun = artifactRun;
  }

  public String getArtifactKey() {
    return artifactKey;
  }

  public void setArtifactKey(String artifactKey) {
    this.artifactKey = artifactKey;
  }

  public ArtifactReuse getReusedFrom() {
    return reusedFrom;
  }

  public void setReusedFrom(ArtifactReuse reusedFrom) {
    this.reusedFrom = reusedFrom;
  }

  public Phase getPhase() {
    return phase;
  }

  public void setPhase(Phase phase) {
    this.phase = phase;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getRevision() {
    return revision;
  }

  public void setRevision(String revision) {
    this.revision = revision;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  public DriftStatus getDrift() {
    return drift;
  }

  public void setDrift(DriftStatus drift) {
    this.drift = drift;
  }

  public RecalibrationStatus getRecalibration() {
    return recalibration;
  }

  public void setRecalibration(RecalibrationStatus recalibration) {
    this.recalibration = recalibration;
  }

  public Integer getCaptureEpoch() {
    return captureEpoch;
  }

  public void setCaptureEpoch(Integer captureEpoch) {
    this.captureEpoch = captureEpoch;
  }

  public CapturedDataStatus getCapturedData() {
    return capturedData;
  }

  public void setCapturedData(CapturedDataStatus capturedData) {
    this.capturedData = capturedData;
  }

  public PruningStatus getPruning() {
    return pruning;
  }

  public void setPruning(PruningStatus pruning) {
    this.pruning = pruning;
  }

  public GateStatus getGate() {
    return gate;
  }

  public void setGate(GateStatus gate) {
    this.gate = gate;
  }

  public StageProgressStatus getProgress() {
    return progress;
  }

  public void setProgress(StageProgressStatus progress) {
    this.progress = progress;
  }

  public EngineStatus getEngine() {
    return engine;
  }

  public void setEngine(EngineStatus engine) {
    this.engine = engine;
  }

  public RolloutStatus getRollout() {
    return rollout;
  }

  public void setRollout(RolloutStatus rollout) {
    this.rollout = rollout;
  }

  public List<StageCompletion> getCompletedStages() {
    return completedStages;
  }

  public void setCompletedStages(List<StageCompletion> completedStages) {
    this.completedStages = completedStages;
  }

  public List<PhaseTransition> getHistory() {
    return history;
  }

  public void setHistory(List<PhaseTransition> history) {
    this.history = history;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SparseModelStatus s
        && phase == s.phase
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(revision, s.revision)
        && Objects.equals(conditions, s.conditions)
        && Objects.equals(pruning, s.pruning)
        && Objects.equals(capturedData, s.capturedData)
        && Objects.equals(drift, s.drift)
        && Objects.equals(recalibration, s.recalibration)
        && Objects.equals(captureEpoch, s.captureEpoch)
        && Objects.equals(gate, s.gate)
        && Objects.equals(engine, s.engine)
        && Objects.equals(rollout, s.rollout)
        && Objects.equals(completedStages, s.completedStages)
        && Objects.equals(history, s.history)
        && Objects.equals(artifactKey, s.artifactKey)
        && Objects.equals(reusedFrom, s.reusedFrom)
        && Objects.equals(artifactRun, s.artifactRun)
        && Objects.equals(variants, s.variants)
        && Objects.equals(progress, s.progress);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        phase,
        observedGeneration,
        revision,
        conditions,
        pruning,
        capturedData,
        drift,
        recalibration,
        captureEpoch,
        gate,
        engine,
        rollout,
        completedStages,
        history,
        artifactKey,
        reusedFrom,
        artifactRun,
        variants,
        progress);
  }
}
