package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.events.EventRecorder;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.ArtifactDonor;
import io.sparserollout.operator.pipeline.JobSettings;
import io.sparserollout.operator.pipeline.PipelineStep;
import io.sparserollout.operator.pipeline.ProductEngines;
import io.sparserollout.operator.pipeline.ProgressReader;
import io.sparserollout.operator.pipeline.Recalibration;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.pipeline.SpecValidator;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageBlockage;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.StageHandler;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.pipeline.StageLimits;
import io.sparserollout.operator.pipeline.StageObservation;
import io.sparserollout.operator.pipeline.StageState;
import io.sparserollout.operator.pipeline.TrainJobState;
import io.sparserollout.operator.pipeline.TrainJobs;
import io.sparserollout.operator.pipeline.WorkerSet;
import io.sparserollout.operator.pipeline.WorkerStates;
import io.sparserollout.operator.placement.GpuInventory;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.operator.rollout.Serving;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline half of a reconcile: validates the spec, moves to the spec's revision, copies the
 * finished stages' results into status, and takes the one next step ({@link PipelineStep}, a pure
 * decision): start a stage's Job, wait for it, fail, or hand over to the gate.
 */
final class PipelineProgress {
  private static final Duration PLACEMENT_RETRY = Duration.ofSeconds(60);

  /**
   * What the step says in status, and when to look again (null: on the next event only).
   *
   * @param trainJobNode the fine-tune's Job when Kubeflow Trainer runs it (its JobSet's worker 0
   *     Job, trusted by UID), for the stage's duration; null otherwise
   */
  record Outcome(String message, Duration retry, Job trainJobNode) {
    Outcome(String message, Duration retry) {
      this(message, retry, null);
    }

    Outcome ranBy(TrainJobStage.Run run) {
      return run == null || run.node() == null
          ? this
          : new Outcome(message, retry, run.node().job());
    }
  }

  /** How soon to look again at a Job without pods: a refused pod sends no watch event. */
  private static final Duration NO_POD_RETRY = Duration.ofSeconds(15);

  private final StatusAggregator statuses;
  private final WorkloadImages images;
  private final StageLimits limits;
  private final ProgressReader progress = new ProgressReader();

  PipelineProgress(StatusAggregator statuses, WorkloadImages images, StageLimits limits) {
    this.statuses = statuses;
    this.images = images;
    this.limits = limits;
  }

  /** Records whether the spec is valid; an invalid one fails the model with the problems. */
  boolean validate(
      SparseModel model, SparseModelStatus status, Phase before, EventRecorder events) {
    long generation = model.getMetadata().getGeneration();
    List<String> problems = SpecValidator.problems(model);
    if (problems.isEmpty()) {
      statuses.setCondition(
          status, StatusAggregator.SPEC_VALID, "True", "Valid", "the spec is valid", generation);
      return true;
    }
    String message = String.join("; ", problems);
    statuses.setCondition(
        status, StatusAggregator.SPEC_VALID, "False", "InvalidSpec", message, generation);
    statuses.enter(status, Phase.FAILED, "invalid spec: " + message);
    statuses.summarize(status, message);
    if (before != Phase.FAILED) {
      events.record(model, Reason.INVALID_SPEC, message);
    }
    return false;
  }

  /**
   * The spec's revision (the spec as the pipeline reads it: recalibrated or not); a new one resets
   * the results, and Jobs of older ones go.
   */
  String revision(
      KubernetesClient client,
      SparseModel model,
      boolean recalibrated,
      SparseModelStatus status,
      Collection<Job> jobs,
      EventRecorder events) {
    Revision.Next next =
        Revision.next(
            model.getSpec(),
            status.getRevision(),
            status.getCaptureEpoch(),
            recalibrated
                && Recalibration.starting(status.getRecalibration(), status.getRevision()));
    String revision = next.revision();
    if (!revision.equals(status.getRevision())) {
      status.setCaptureEpoch(next.epoch() == 0 ? null : next.epoch());
      statuses.startRevision(status, revision);
      // Only a revision started here gets a key: results from before keys existed may come
      // from another stage image.
      status.setArtifactKey(ArtifactDonor.key(model.getSpec(), images.sparsify()));
      status.setArtifactRun(run(client, model, revision));
      events.record(
          model,
          Reason.REVISION_STARTED,
          "pipeline revision "
              + revision
              + (recalibrated ? " (recalibrated: calibrated on captured samples)" : ""));
      if (status.getCompletedStages().isEmpty()
          && client.supports(TrainJobs.API_VERSION, TrainJobs.KIND)) {
        TrainJobStage.deleteOtherRevisions(client, model, revision);
      }
    }
    for (Job job : jobs) {
      if (OwnedResources.ownedBy(job, model)
          && !revision.equals(job.getMetadata().getLabels().get(StageJobs.REVISION_LABEL))) {
        client.resource(job).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      }
    }
    return revision;
  }

  /** Annotation of a stage Job naming the run folder its stage writes to. */
  static final String RUN_ANNOTATION = "sparserollout.io/artifact-run";

  /** What a run folder's name may be: it becomes part of a path. */
  private static final java.util.regex.Pattern RUN =
      java.util.regex.Pattern.compile("[0-9a-z-]{1,40}");

  /**
   * The run folder of a revision starting now: the one a live Job of this revision already writes
   * to (made by a reconcile whose status write was lost; read from the API server, not the cache,
   * and never one being deleted), else a new one of this model's uid and the time, which a revert
   * or a re-created model of the same name never shares.
   */
  private static String run(KubernetesClient client, SparseModel model, String revision) {
    for (Job job :
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(model.getMetadata().getNamespace())
            .withLabel(StageJobs.MODEL_LABEL, model.getMetadata().getName())
            .withLabel(StageJobs.REVISION_LABEL, revision)
            .list()
            .getItems()) {
      if (OwnedResources.ownedBy(job, model) && job.getMetadata().getDeletionTimestamp() == null) {
        String adopted = runOf(job);
        if (adopted != null) {
          return adopted;
        }
      }
    }
    String uid = String.valueOf(model.getMetadata().getUid());
    return uid.substring(0, Math.min(8, uid.length()))
        + "-"
        + Long.toString(java.time.Instant.now().getEpochSecond(), 36);
  }

  /** The run folder a stage Job writes to, when it names a valid one. */
  private static String runOf(Job job) {
    Map<String, String> annotations = job.getMetadata().getAnnotations();
    String run = annotations == null ? null : annotations.get(RUN_ANNOTATION);
    return run != null && RUN.matcher(run).matches() ? run : null;
  }

  Outcome advance(
      KubernetesClient client,
      SparseModel model,
      SparseModelStatus status,
      Phase before,
      String revision,
      StageObservation observed,
      EventRecorder events) {
    if (status.getArtifactRun() == null) {
      // A status that lost its run (an older operator wrote it) takes it back from its Jobs.
      observed.jobs().values().stream()
          .map(PipelineProgress::runOf)
          .filter(java.util.Objects::nonNull)
          .findFirst()
          .ifPresent(status::setArtifactRun);
    }
    StageContext stages = StageContext.of(model, revision, status);
    if (status.getCompletedStages().isEmpty()
        && observed.jobs().isEmpty()
        && status.getArtifactKey() != null) {
      reuse(client, model, status, stages.plan(), events);
    }
    Map<Stage, StageState> states = new EnumMap<>(Stage.class);
    states.putAll(observed.states());
    if (status.getCompletedStages().isEmpty() && status.getGate() != null) {
      // Written before completions were recorded (an upgrade): a gate verdict for this revision
      // means every stage finished, whatever became of their pods since.
      stages
          .plan()
          .forEach(
              stage ->
                  statuses.complete(status, stage.jobSuffix(), observed.jobs().get(stage), null));
    }
    // A stage the plan gained after later stages of this revision ran (quantize-dense came with
    // variants: an operator upgrade) is recorded as done, not run: a stage starts only when every
    // earlier one is done, so a later stage's Job or result means the revision ran without it.
    List<Stage> plan = stages.plan();
    for (int i = 0; i < plan.size(); i++) {
      Stage stage = plan.get(i);
      boolean passedBy =
          plan.subList(i + 1, plan.size()).stream()
              .anyMatch(
                  later ->
                      StatusAggregator.completed(status, later.jobSuffix())
                          || observed.jobs().containsKey(later));
      if (passedBy
          && !StatusAggregator.completed(status, stage.jobSuffix())
          && !observed.jobs().containsKey(stage)) {
        statuses.complete(status, stage.jobSuffix(), null, null);
      }
    }
    TrainJobStage.Run trainJobRun = null;
    if (TrainJobs.requested(model)
        && stages.plan().contains(Stage.FINETUNE)
        && !StatusAggregator.completed(status, Stage.FINETUNE.jobSuffix())) {
      trainJobRun = TrainJobStage.observe(client, model, revision, observed.trainJobNodes());
      WorkerStates.Worker node = trainJobRun.node();
      StageState state =
          TrainJobState.observe(
              trainJobRun.trainJob(),
              node == null ? null : node.job(),
              node == null ? List.of() : node.pods(),
              StageHandler.of(Stage.FINETUNE).resultType(),
              java.time.Instant.now());
      // A JobSet that cannot be read hides whose result it is, not a failure Trainer reports.
      states.put(
          Stage.FINETUNE,
          trainJobRun.problem() != null && !(state instanceof StageState.Failed)
              ? new StageState.Blocked(
                  trainJobRun.problem().reason(), trainJobRun.problem().message())
              : state);
    }
    List<String> otherProducts =
        StatusAggregator.completed(status, Stage.BUILD_ENGINE.jobSuffix())
            ? List.of()
            : ProductEngineStage.expected(status, observed.jobs().get(Stage.BUILD_ENGINE));
    if (!otherProducts.isEmpty()) {
      states.put(
          Stage.BUILD_ENGINE,
          ProductEngineStage.record(
              statuses, model, status, stages, observed, otherProducts, states, events));
    }
    for (Stage stage : stages.plan()) {
      if (StatusAggregator.completed(status, stage.jobSuffix())) {
        states.put(stage, new StageState.Recorded());
      } else if (states.get(stage) instanceof StageState.Succeeded done) {
        StageHandler.of(stage).applyResult(status, stages, done.result());
        WorkerSetResources.stopRetrying(client, observed.workers().getOrDefault(stage, List.of()));
        Job finished =
            stage == Stage.FINETUNE && trainJobRun != null && trainJobRun.node() != null
                ? trainJobRun.node().job()
                : observed.jobs().get(stage);
        if (stage == Stage.BUILD_ENGINE && status.getEngine() != null) {
          String placed = finished == null ? null : GpuPlacement.placedOn(finished);
          if (placed != null) {
            status.setEngine(status.getEngine().builtOn(placed));
          }
        }
        statuses.complete(status, stage.jobSuffix(), finished, done.result().sha256());
      }
    }
    PipelineStep step = PipelineStep.next(stages.plan(), states);
    if (!(step instanceof PipelineStep.Wait wait && wait.stage() == Stage.FINETUNE)) {
      status.setProgress(null);
    }
    if (step instanceof PipelineStep.Fail || step instanceof PipelineStep.Complete) {
      statuses.removeCondition(status, StatusAggregator.STAGE_BLOCKED);
    }
    if (step instanceof PipelineStep.Start start) {
      return start(client, stages, status, revision, start.stage(), events).ranBy(trainJobRun);
    }
    if (step instanceof PipelineStep.Wait wait) {
      return waiting(
              client, model, status, revision, wait.stage(), observed, trainJobRun, states, events)
          .ranBy(trainJobRun);
    }
    if (step instanceof PipelineStep.Fail fail) {
      WorkerSetResources.stop(client, observed.workers().getOrDefault(fail.stage(), List.of()));
      if (fail.stage() == Stage.BUILD_ENGINE) {
        ProductEngineStage.stop(client, observed); // their engines would serve nothing now
      }
      String message = "stage " + fail.stage().jobSuffix() + " failed: " + fail.message();
      statuses.enter(status, Phase.FAILED, message);
      if (before != Phase.FAILED) {
        events.record(model, Reason.STAGE_FAILED, message);
      }
      return new Outcome(message, null).ranBy(trainJobRun);
    }
    return judged(model, status, before, events).ranBy(trainJobRun);
  }

  /**
   * Before a revision's first stage: another model of the namespace that finished this revision
   * under the same artifact key lends its results and artifacts, and no stage runs. A TensorRT
   * engine is taken only where the GPU product the engine would be built for now is the one it was
   * built for.
   */
  private void reuse(
      KubernetesClient client,
      SparseModel model,
      SparseModelStatus status,
      List<Stage> plan,
      EventRecorder events) {
    List<SparseModel> candidates;
    try {
      candidates =
          client
              .resources(SparseModel.class)
              .inNamespace(model.getMetadata().getNamespace())
              .list()
              .getItems();
    } catch (KubernetesClientException e) {
      return; // the stages run as they would without a donor
    }
    // A first-stage Job the cache does not show yet (its reconcile's status write was lost)
    // runs on: its results are the ones to take.
    String first = StageJobs.name(model, status.getRevision(), plan.get(0));
    if (client
            .batch()
            .v1()
            .jobs()
            .inNamespace(model.getMetadata().getNamespace())
            .withName(first)
            .get()
        != null) {
      return;
    }
    String gpuProduct = null;
    if (model.getSpec().engine().backend() == EngineSpec.Backend.TENSORRT) {
      if (!(GpuInventory.decide(client, model.getSpec().engine())
          instanceof GpuPlacement.OnGpu gpu)) {
        return;
      }
      gpuProduct = gpu.product();
    }
    var donor =
        ArtifactDonor.find(
            model, status.getRevision(), status.getArtifactKey(), plan, gpuProduct, candidates);
    if (donor.isEmpty()) {
      return;
    }
    statuses.reuse(status, donor.get());
    events.record(
        model,
        Reason.ARTIFACTS_REUSED,
        "revision "
            + status.getRevision()
            + " reuses the results and artifacts of SparseModel "
            + donor.get().getMetadata().getName()
            + " (artifact key "
            + status.getArtifactKey()
            + "): no stage Job runs");
  }

  /** A stage still running: says so, or why the cluster keeps it from running (StageBlocked). */
  private Outcome waiting(
      KubernetesClient client,
      SparseModel model,
      SparseModelStatus status,
      String revision,
      Stage stage,
      StageObservation observed,
      TrainJobStage.Run run,
      Map<Stage, StageState> states,
      EventRecorder events) {
    Job job = observed.jobs().get(stage);
    StageState.Blocked productBlocked = null;
    if (stage == Stage.BUILD_ENGINE && job != null) {
      ProductEngineStage.Made products =
          ProductEngineStage.ensure(
              client,
              model,
              status,
              revision,
              job,
              observed.productEngines(),
              limits.settings(images.sparsify(), Stage.BUILD_ENGINE));
      if (products.taken() != null) {
        productBlocked =
            new StageState.Blocked(
                "NameTaken", new OwnedResources.NameTaken(products.taken()).getMessage());
      }
    }
    List<Pod> pods = observed.pods().getOrDefault(stage, List.of());
    List<WorkerStates.Worker> workers = observed.workers().getOrDefault(stage, List.of());
    // Run by Kubeflow Trainer: its JobSet's node Job (once Trainer made it) holds every worker.
    boolean trainJob = stage == Stage.FINETUNE && run != null;
    if (trainJob) {
      pods = run.node() == null ? List.of() : TrainJobState.workerZero(run.node().pods());
    }
    // The stage's Jobs: its one, or every worker's (any of them may be the one refused a pod).
    List<WorkerStates.Worker> jobs =
        new java.util.ArrayList<>(
            trainJob
                ? run.node() == null ? List.of() : List.of(run.node())
                : workers.size() > 1 ? workers : List.of(new WorkerStates.Worker(0, job, pods)));
    if (stage == Stage.BUILD_ENGINE) {
      // Any product's Job may be refused a pod; one that ended (reported) no longer runs.
      jobs.addAll(observed.productEngines().values());
      jobs.removeIf(w -> w.job() != null && WorkerStates.ended(w.job()));
    }
    String running =
        trainJob
            ? "TrainJob " + TrainJobs.name(model, revision)
            : job == null
                ? "the engine Jobs of the other GPU products"
                : "Job " + job.getMetadata().getName();
    StageState.Blocked blocked =
        productBlocked != null
            ? productBlocked
            : states.get(stage) instanceof StageState.Blocked b ? b : null;
    Job blockedJob = trainJob ? null : job;
    for (WorkerStates.Worker worker : jobs) {
      if (blocked != null && StageBlockage.ofPods(worker.pods()).isPresent()) {
        blockedJob = worker.job(); // the worker whose pod cannot start
        break;
      }
    }
    for (WorkerStates.Worker worker : jobs) {
      if (blocked == null && worker.job() != null) {
        blocked = refused(client, worker.job(), worker.pods());
        blockedJob = worker.job();
      }
    }
    if (trainJob && run.trainJob() != null) {
      // Kept in place while it runs, as a worker set's; Trainer says why it made no JobSet only
      // in the TrainJob's events (stale once the JobSet exists).
      WorkerSetResources.Blocked problem =
          WorkerSetResources.isolate(client, model, revision, run.trainJob());
      if (problem == null && blocked == null && run.jobSet() == null) {
        problem = TrainJobStage.warned(client, run.trainJob());
      }
      if (blocked == null && problem != null) {
        blocked = new StageState.Blocked(problem.reason(), problem.message());
      }
    }
    if (blocked == null && !trainJob && workers.size() > 1) {
      // Kept in place while the set runs: deleted by hand, it would leave the workers waiting.
      WorkerSetResources.Blocked missing =
          WorkerSetResources.ensure(client, model, revision, stage, job);
      if (missing != null) {
        blocked = new StageState.Blocked(missing.reason(), missing.message());
      }
    }
    String name = stage.jobSuffix();
    if (blocked == null) {
      statuses.removeCondition(status, StatusAggregator.STAGE_BLOCKED);
      statuses.enter(status, stage.phase(), "stage " + name + " running");
    } else {
      String message =
          "stage "
              + name
              + " ("
              + (blockedJob == null ? running : "Job " + blockedJob.getMetadata().getName())
              + ") cannot run: "
              + blocked.message();
      if (statuses.setBlocked(
          status, blocked.reason(), message, model.getMetadata().getGeneration())) {
        events.record(model, Reason.STAGE_BLOCKED, blocked.reason() + ": " + message);
      }
      statuses.enter(status, stage.phase(), message);
    }
    if (stage == Stage.FINETUNE && (blocked == null || trainJob)) {
      // Shown only: an answer that does not come keeps the last one.
      progress.read(pods).ifPresent(status::setProgress);
    }
    // Look again after the pod-lag allowance: a Complete Job whose pod never shows up must fail
    // then, and no event may come to say so. Sooner while a Job has no pod, or to update progress.
    // A TrainJob is read on the poll: no informer watches it.
    boolean podless = !trainJob && jobs.stream().anyMatch(w -> w.pods().isEmpty());
    return new Outcome(
        blocked == null ? "running " + running : blocked.message(),
        podless ? NO_POD_RETRY : stage == Stage.FINETUNE ? progressPoll() : lostPodCheck());
  }

  /** After the pod-lag allowance, when a Complete Job's missing pod must fail the stage. */
  private static Duration lostPodCheck() {
    return StageState.POD_LAG_ALLOWED.plusSeconds(5);
  }

  /** The progress poll, never later than the lost-pod check that no event would trigger. */
  private Duration progressPoll() {
    return limits.progressPoll().compareTo(lostPodCheck()) < 0
        ? limits.progressPoll()
        : lostPodCheck();
  }

  /**
   * The Job controller's newest FailedCreate for a Job that has no pod since: the cluster refused
   * its pod (quota, admission). Null when there is none.
   */
  private static StageState.Blocked refused(KubernetesClient client, Job job, List<Pod> pods) {
    Integer active = job.getStatus() == null ? null : job.getStatus().getActive();
    if (active != null && active > 0) {
      return null;
    }
    String newestPod =
        pods.stream()
            .map(p -> p.getMetadata().getCreationTimestamp())
            .filter(java.util.Objects::nonNull)
            .max(String::compareTo)
            .orElse("");
    List<Event> refusals =
        client
            .v1()
            .events()
            .inNamespace(job.getMetadata().getNamespace())
            .withField("involvedObject.uid", job.getMetadata().getUid())
            .list()
            .getItems()
            .stream()
            .filter(e -> StageBlockage.lastSeen(e).compareTo(newestPod) > 0)
            .toList();
    return StageBlockage.ofJobEvents(refusals).orElse(null);
  }

  private Outcome start(
      KubernetesClient client,
      StageContext stages,
      SparseModelStatus status,
      String revision,
      Stage stage,
      EventRecorder events) {
    SparseModel model = stages.model();
    GpuPlacement.Decision placement =
        stage == Stage.BUILD_ENGINE
            ? place(client, model, status, events)
            : new GpuPlacement.OnCpu();
    statuses.enter(status, stage.phase(), "stage " + stage.jobSuffix() + " starting");
    if (placement instanceof GpuPlacement.Unplaceable unplaceable) {
      return new Outcome("waiting for a GPU node: " + unplaceable.reason(), PLACEMENT_RETRY);
    }
    String job = StageJobs.name(model, revision, stage);
    JobSettings settings = limits.settings(images.sparsify(), stage);
    if (stage == Stage.FINETUNE && TrainJobs.requested(model)) {
      return startTrainJob(client, stages, status, revision, placement, settings, events);
    }
    List<Job> desired =
        new java.util.ArrayList<>(StageJobs.forStage(stages, revision, stage, placement, settings));
    if (status.getArtifactRun() != null) {
      desired.forEach(
          each ->
              each.getMetadata().setAnnotations(Map.of(RUN_ANNOTATION, status.getArtifactRun())));
    }
    boolean workerSet = WorkerSet.workers(model, stage) > 1;
    List<GpuPlacement.OnGpu> others =
        stage == Stage.BUILD_ENGINE && placement instanceof GpuPlacement.OnGpu first
            ? ProductEngineStage.others(client, model, first)
            : List.of();
    ProductEngines.annotate(desired.get(0), others);
    if (workerSet) {
      // Nothing of the set starts unless all of it can: a part would only wait for the rest.
      WorkerSetResources.Blocked blocked = WorkerSetResources.preflight(client, model, desired);
      if (blocked != null) {
        return blocked(model, status, stage, blocked, events);
      }
    }
    List<String> created = new java.util.ArrayList<>();
    List<String> productJobs = new java.util.ArrayList<>();
    for (Job each : desired) {
      Adopted adopted = createOrAdopt(client, model, status, each);
      if (adopted.taken() != null) {
        return blocked(
            model,
            status,
            stage,
            new WorkerSetResources.Blocked(
                "NameTaken", new OwnedResources.NameTaken(adopted.taken()).getMessage()),
            events);
      }
      if (adopted.created()) {
        created.add(each.getMetadata().getName());
      }
      if (workerSet && each == desired.get(0)) {
        WorkerSetResources.Blocked blocked =
            WorkerSetResources.ensure(client, model, revision, stage, adopted.job());
        if (blocked != null) {
          return blocked(model, status, stage, blocked, events);
        }
      }
      if (stage == Stage.BUILD_ENGINE && each == desired.get(0)) {
        // The other products the first Job names: one adopted from before names its own set.
        ProductEngineStage.Made products =
            ProductEngineStage.ensure(
                client, model, status, revision, adopted.job(), Map.of(), settings);
        if (products.taken() != null) {
          return blocked(
              model,
              status,
              stage,
              new WorkerSetResources.Blocked(
                  "NameTaken", new OwnedResources.NameTaken(products.taken()).getMessage()),
              events);
        }
        productJobs.addAll(products.created());
      }
    }
    if (!created.isEmpty()) {
      events.record(
          model,
          Reason.STAGE_STARTED,
          "stage "
              + stage.jobSuffix()
              + (desired.size() == 1
                  ? ": Job " + job
                  : ": " + desired.size() + " workers, Jobs " + String.join(", ", created))
              + (productJobs.isEmpty()
                  ? ""
                  : ", one more per GPU product ("
                      + String.join(", ", others.stream().map(GpuPlacement.OnGpu::product).toList())
                      + "): "
                      + String.join(", ", productJobs)));
    }
    statuses.removeCondition(status, StatusAggregator.STAGE_BLOCKED);
    return new Outcome("running Job " + job, null);
  }

  /**
   * Fine-tuning as a Kubeflow Trainer TrainJob ({@link TrainJobStage#launch}), then read again on
   * the progress poll, as no informer watches it.
   */
  private Outcome startTrainJob(
      KubernetesClient client,
      StageContext stages,
      SparseModelStatus status,
      String revision,
      GpuPlacement.Decision placement,
      JobSettings settings,
      EventRecorder events) {
    SparseModel model = stages.model();
    Stage stage = Stage.FINETUNE;
    var desired =
        TrainJobs.build(model, revision, StageHandler.of(stage).args(stages), placement, settings);
    if (status.getArtifactRun() != null) {
      desired.getMetadata().setAnnotations(Map.of(RUN_ANNOTATION, status.getArtifactRun()));
    }
    TrainJobStage.Started started =
        TrainJobStage.launch(client, model, revision, desired, limits.trainJobRuntimes());
    if (started.blocked() != null) {
      return blocked(model, status, stage, started.blocked(), events);
    }
    String name = desired.getMetadata().getName();
    if (started.created()) {
      events.record(
          model,
          Reason.STAGE_STARTED,
          "stage "
              + stage.jobSuffix()
              + ": TrainJob "
              + name
              + " ("
              + WorkerSet.workers(model, stage)
              + " workers, runtime "
              + model.getSpec().fineTuning().trainJob().runtimeName()
              + ")");
    }
    statuses.removeCondition(status, StatusAggregator.STAGE_BLOCKED);
    return new Outcome("running TrainJob " + name, progressPoll());
  }

  /** A Job created now, or the one already there (taken: somebody else's of that name). */
  record Adopted(Job job, boolean created, Job taken) {}

  static Adopted createOrAdopt(
      KubernetesClient client, SparseModel model, SparseModelStatus status, Job desired) {
    try {
      return new Adopted(client.resource(desired).create(), true, null);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // 409: created by an earlier reconcile whose status write did not land (adopted once the
      // cache has it), or a Job of the same name that is somebody else's (never adopted).
      Job existing = client.resource(desired).get();
      if (existing != null && !OwnedResources.ownedBy(existing, model)) {
        return new Adopted(null, false, existing);
      }
      String written = existing == null ? null : runOf(existing);
      if (written != null && status.getCompletedStages().isEmpty()) {
        // The earlier reconcile's Job writes there: the later stages must read there too.
        status.setArtifactRun(written);
      }
      return new Adopted(existing, false, null);
    }
  }

  /** The stage cannot start until somebody acts: StageBlocked, an event once, a retry. */
  private Outcome blocked(
      SparseModel model,
      SparseModelStatus status,
      Stage stage,
      WorkerSetResources.Blocked why,
      EventRecorder events) {
    String message = "stage " + stage.jobSuffix() + " cannot run: " + why.message();
    if (statuses.setBlocked(status, why.reason(), message, model.getMetadata().getGeneration())) {
      events.record(model, Reason.STAGE_BLOCKED, message);
    }
    return new Outcome(message, PLACEMENT_RETRY);
  }

  /** Every stage done: the gate's verdict is the phase, until the rollout takes over. */
  private Outcome judged(
      SparseModel model, SparseModelStatus status, Phase before, EventRecorder events) {
    GateStatus gate = status.getGate();
    boolean passed = gate != null && gate.verdict() == GateStatus.Verdict.PASSED;
    String message = gate == null ? "evaluation gave no gate result" : gate.message();
    Phase verdict = passed ? Phase.GATE_PASSED : Phase.GATE_FAILED;
    if (!(passed && Serving.owns(status.getPhase()))) {
      statuses.enter(status, verdict, message);
      if (before != verdict) {
        events.record(model, passed ? Reason.GATE_PASSED : Reason.GATE_FAILED, message);
      }
    }
    return new Outcome(message, null);
  }

  /** GPU placement for the engine stage, recorded as the GpuPlacement condition. */
  private GpuPlacement.Decision place(
      KubernetesClient client, SparseModel model, SparseModelStatus status, EventRecorder events) {
    GpuPlacement.Decision decision = GpuInventory.decide(client, model.getSpec().engine());
    long generation = model.getMetadata().getGeneration();
    if (decision instanceof GpuPlacement.OnCpu) {
      statuses.removeCondition(status, StatusAggregator.GPU_PLACEMENT);
    } else if (decision instanceof GpuPlacement.OnGpu gpu) {
      statuses.setCondition(
          status,
          StatusAggregator.GPU_PLACEMENT,
          "True",
          "GpuNodeSelected",
          "nodes with " + GpuPlacement.PRODUCT + "=" + gpu.product() + ", " + gpu.resource(),
          generation);
    } else if (decision instanceof GpuPlacement.Unplaceable u
        && statuses.setProblem(
            status, StatusAggregator.GPU_PLACEMENT, "NoEligibleGpuNode", u.reason(), generation)) {
      events.record(model, Reason.NO_ELIGIBLE_GPU_NODE, u.reason());
    }
    return decision;
  }
}
