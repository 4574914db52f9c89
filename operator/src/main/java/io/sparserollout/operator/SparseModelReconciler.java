package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.events.EventRecorder;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.metrics.PipelineMetrics;
import io.sparserollout.operator.pipeline.JobSettings;
import io.sparserollout.operator.pipeline.PipelineStep;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.pipeline.SpecValidator;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.StageHandler;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.pipeline.StageObservation;
import io.sparserollout.operator.pipeline.StageState;
import io.sparserollout.operator.placement.GpuInventory;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.operator.rollout.RolloutPlan;
import io.sparserollout.operator.rollout.Serving;
import io.sparserollout.operator.rollout.ServingSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Thin controller: observe (the stage Jobs and their pods, from informer caches), validate the
 * spec, then take the one next step of the pipeline. Bad input becomes a condition and an event;
 * API errors propagate and JOSDK retries them.
 */
@ControllerConfiguration(
    name = "sparsemodel",
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = SpecOrAnnotationsChanged.class))
public class SparseModelReconciler implements Reconciler<SparseModel> {
  private static final Logger LOG = Logger.getLogger(SparseModelReconciler.class);
  private static final Duration PLACEMENT_RETRY = Duration.ofSeconds(60);

  private final StatusAggregator statuses = new StatusAggregator(Clock.systemUTC());
  private final WorkloadImages images;
  private final int backoffLimit;
  private final int servingPort;
  private final PipelineMetrics metrics;

  public SparseModelReconciler(
      WorkloadImages images,
      @ConfigProperty(name = "sparserollout.job.backoff-limit") int backoffLimit,
      @ConfigProperty(name = "sparserollout.serving.port") int servingPort,
      PipelineMetrics metrics) {
    this.images = images;
    this.backoffLimit = backoffLimit;
    this.servingPort = servingPort;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, SparseModel>> prepareEventSources(
      EventSourceContext<SparseModel> context) {
    String managed = StageJobs.MANAGED_BY + "=" + StageJobs.OPERATOR;
    var jobs =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Job.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SparseModel.class)
                .withLabelSelector(managed)
                .withSecondaryToPrimaryMapper(
                    pod ->
                        Set.of(
                            new ResourceID(
                                pod.getMetadata().getLabels().get(StageJobs.MODEL_LABEL),
                                pod.getMetadata().getNamespace())))
                .build(),
            context);
    var deployments =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Deployment.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    var services =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Service.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    // A new stage or serving image reaches the running revisions' Deployments at once.
    var imageChanges = new SimpleInboundEventSource<SparseModel>();
    images.onChange(
        () -> {
          try {
            context
                .getPrimaryCache()
                .list()
                .forEach(model -> imageChanges.propagateEvent(ResourceID.fromResource(model)));
          } catch (RuntimeException notStartedYet) {
            // Before the controller starts; starting reconciles every model anyway.
          }
        });
    return List.of(jobs, pods, deployments, services, imageChanges);
  }

  @Override
  public UpdateControl<SparseModel> reconcile(SparseModel model, Context<SparseModel> context) {
    MDC.put(
        "sparsemodel", model.getMetadata().getNamespace() + "/" + model.getMetadata().getName());
    try {
      return reconcilePipeline(model, context);
    } finally {
      MDC.remove("sparsemodel");
    }
  }

  private UpdateControl<SparseModel> reconcilePipeline(
      SparseModel model, Context<SparseModel> context) {
    KubernetesClient client = context.getClient();
    EventRecorder events = new EventRecorder(client);
    SparseModelStatus status = statuses.begin(model);
    Phase before = status.getPhase();
    long generation = model.getMetadata().getGeneration();

    List<String> problems = SpecValidator.problems(model.getSpec());
    if (!problems.isEmpty()) {
      String message = String.join("; ", problems);
      statuses.setCondition(
          status, StatusAggregator.SPEC_VALID, "False", "InvalidSpec", message, generation);
      statuses.enter(status, Phase.FAILED, "invalid spec: " + message);
      statuses.summarize(status, message);
      if (before != Phase.FAILED) {
        events.record(model, Reason.INVALID_SPEC, message);
      }
      return commit(context, model, status, null, events);
    }
    statuses.setCondition(
        status, StatusAggregator.SPEC_VALID, "True", "Valid", "the spec is valid", generation);

    String revision = Revision.of(model.getSpec());
    if (!revision.equals(status.getRevision())) {
      statuses.startRevision(status, revision);
      events.record(model, Reason.REVISION_STARTED, "pipeline revision " + revision);
    }
    deleteJobsOfOtherRevisions(client, context, revision);

    StageContext stages = StageContext.of(model, revision);
    List<Stage> plan = stages.plan();
    StageObservation observed =
        StageObservation.of(
            context.getSecondaryResources(Job.class),
            context.getSecondaryResources(Pod.class),
            revision);
    Map<Stage, Job> jobs = observed.jobs();
    Map<Stage, StageState> states = observed.states();
    for (Stage stage : plan) {
      if (states.get(stage) instanceof StageState.Succeeded done) {
        StageHandler.of(stage).applyResult(status, stages, done.result());
      }
    }

    PipelineStep step = PipelineStep.next(plan, states);
    Duration retry = null;
    String message;
    if (step instanceof PipelineStep.Start start) {
      Stage stage = start.stage();
      GpuPlacement.Decision placement =
          stage == Stage.BUILD_ENGINE
              ? place(client, model, status, events)
              : new GpuPlacement.OnCpu();
      statuses.enter(status, stage.phase(), "stage " + stage.jobSuffix() + " starting");
      if (placement instanceof GpuPlacement.Unplaceable unplaceable) {
        message = "waiting for a GPU node: " + unplaceable.reason();
        retry = PLACEMENT_RETRY;
      } else {
        String job = StageJobs.name(model, revision, stage);
        message = "running Job " + job;
        if (createJob(client, stages, revision, stage, placement)) {
          events.record(model, Reason.STAGE_STARTED, "stage " + stage.jobSuffix() + ": Job " + job);
        }
      }
    } else if (step instanceof PipelineStep.Wait wait) {
      statuses.enter(
          status, wait.stage().phase(), "stage " + wait.stage().jobSuffix() + " running");
      message = "running Job " + StageJobs.name(model, revision, wait.stage());
      // Look again after the pod-lag allowance: a Complete Job whose pod never shows up must
      // fail then, and no event may come to say so.
      retry = StageState.POD_LAG_ALLOWED.plusSeconds(5);
    } else if (step instanceof PipelineStep.Fail fail) {
      message = "stage " + fail.stage().jobSuffix() + " failed: " + fail.message();
      statuses.enter(status, Phase.FAILED, message);
      if (before != Phase.FAILED) {
        events.record(model, Reason.STAGE_FAILED, message);
      }
    } else {
      GateStatus gate = status.getGate();
      boolean passed = gate != null && gate.verdict() == GateStatus.Verdict.PASSED;
      message = gate == null ? "evaluation gave no gate result" : gate.message();
      Phase verdict = passed ? Phase.GATE_PASSED : Phase.GATE_FAILED;
      // Past the gate, the rollout decides the phase.
      if (!(passed && Serving.owns(status.getPhase()))) {
        statuses.enter(status, verdict, message);
        if (before != verdict) {
          events.record(model, passed ? Reason.GATE_PASSED : Reason.GATE_FAILED, message);
        }
      }
    }
    Serving serving =
        new Serving(new ServingSettings(images.inferencePod(), images.sparsify(), servingPort));
    RolloutPlan rollout = serving.reconcile(client, context, model, status, Instant.now());
    if (rollout.trafficProblem() != null) {
      if (statuses.setProblem(
          status,
          StatusAggregator.TRAFFIC_ROUTING,
          "GatewayApiNotInstalled",
          rollout.trafficProblem(),
          generation)) {
        events.record(model, Reason.TRAFFIC_NOT_ROUTABLE, rollout.trafficProblem());
      }
    } else {
      statuses.removeCondition(status, StatusAggregator.TRAFFIC_ROUTING);
    }
    statuses.enter(status, rollout.phase(), rollout.message());
    status.setRollout(rollout.rollout());
    rollout.events().forEach(e -> events.record(model, e.reason(), e.message()));
    message = rollout.message() == null ? message : rollout.message();
    retry = earliest(retry, rollout.requeue());
    statuses.summarize(status, message);
    if (status.getPhase() != before) {
      metrics.transition(status.getPhase());
      for (Stage stage : plan) {
        if (stage.phase() == before && jobs.containsKey(stage)) {
          metrics.stageFinished(
              stage, jobs.get(stage), !(states.get(stage) instanceof StageState.Failed));
        }
      }
    }
    return commit(context, model, status, retry, events);
  }

  /**
   * Writes the status when it changed, with optimistic locking: a reconcile that started from a
   * stale copy fails with a conflict and is retried, its events never recorded. The written
   * resource goes to JOSDK's cache, so the next reconcile starts from it.
   */
  private UpdateControl<SparseModel> commit(
      Context<SparseModel> context,
      SparseModel model,
      SparseModelStatus status,
      Duration retry,
      EventRecorder events) {
    if (!status.equals(model.getStatus())) {
      LOG.infof("phase %s (revision %s)", status.getPhase(), status.getRevision());
      model.setStatus(status);
      SparseModel written = context.getClient().resource(model).updateStatus();
      context
          .eventSourceRetriever()
          .getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(model), written, model);
    }
    events.flush();
    UpdateControl<SparseModel> control = UpdateControl.noUpdate();
    return retry == null ? control : control.rescheduleAfter(retry);
  }

  private static Duration earliest(Duration a, Duration b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** A newer spec replaces the pipeline: Jobs of older revisions (and their pods) go. */
  private static void deleteJobsOfOtherRevisions(
      KubernetesClient client, Context<SparseModel> context, String revision) {
    for (Job job : context.getSecondaryResources(Job.class)) {
      if (!revision.equals(job.getMetadata().getLabels().get(StageJobs.REVISION_LABEL))) {
        client
            .resource(job)
            .withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND)
            .delete();
      }
    }
  }

  /** Creates the stage Job; false when it already existed (adopted, not duplicated). */
  private boolean createJob(
      KubernetesClient client,
      StageContext stages,
      String revision,
      Stage stage,
      GpuPlacement.Decision placement) {
    Job job =
        StageJobs.build(
            stages.model(),
            revision,
            stage,
            StageHandler.of(stage).args(stages),
            placement,
            new JobSettings(images.sparsify(), backoffLimit));
    try {
      client.resource(job).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Created by an earlier reconcile whose status patch did not land: adopt it.
      return false;
    }
  }

  /** GPU placement for the engine stage, recorded as the GpuPlacement condition. */
  private GpuPlacement.Decision place(
      KubernetesClient client, SparseModel model, SparseModelStatus status, EventRecorder events) {
    GpuPlacement.Decision decision = GpuInventory.decide(client, model.getSpec().engine());
    if (decision instanceof GpuPlacement.OnCpu) {
      statuses.removeCondition(status, StatusAggregator.GPU_PLACEMENT);
      return decision;
    }
    long generation = model.getMetadata().getGeneration();
    if (decision instanceof GpuPlacement.OnGpu gpu) {
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
