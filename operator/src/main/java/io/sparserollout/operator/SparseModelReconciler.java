package io.sparserollout.operator;

import static java.util.concurrent.TimeUnit.MINUTES;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.retry.GradualRetry;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.events.EventRecorder;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.metrics.PipelineMetrics;
import io.sparserollout.operator.pipeline.Recalibration;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageLimits;
import io.sparserollout.operator.pipeline.StageObservation;
import io.sparserollout.operator.pipeline.StageState;
import io.sparserollout.operator.rollout.Measurements;
import io.sparserollout.operator.rollout.RolloutPlan;
import io.sparserollout.operator.rollout.Serving;
import io.sparserollout.operator.rollout.ServingMemory;
import io.sparserollout.operator.rollout.ServingSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.MDC;

/**
 * Thin controller, in three steps: observe (stage Jobs, pods and serving resources from the
 * informer caches), decide and act (the pipeline's next step, then the rollout's plan, each a pure
 * decision applied by its collaborator), and commit the status once. Bad input becomes a condition
 * and an event; API errors propagate and JOSDK retries them.
 */
@ControllerConfiguration(
    name = "sparsemodel",
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = SpecOrAnnotationsChanged.class),
    // Every model is looked at again within minutes whatever happened: a canary timer lost in
    // an API server outage, say.
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 5, timeUnit = MINUTES))
// API errors are retried without end (backing off to 5 minutes), never given up after a few tries.
@GradualRetry(
    maxAttempts = -1,
    initialInterval = 2000,
    intervalMultiplier = 1.5,
    maxInterval = 300_000)
public class SparseModelReconciler implements Reconciler<SparseModel> {
  private final Clock clock = Clock.systemUTC();
  private final StatusAggregator statuses = new StatusAggregator(clock);
  private final WorkloadImages images;
  private final PrometheusProviders prometheus;
  private final PipelineProgress pipeline;
  private final int servingPort;
  private final int minReadySeconds;
  private final PipelineMetrics metrics;
  private final ServingMemory servingMemory = new ServingMemory();

  /** A finished canary measurement asks for its model's reconcile through this. */
  private final SimpleInboundEventSource<SparseModel> measured = new SimpleInboundEventSource<>();

  /** Canary measurements, a few at a time, off the reconcile threads. */
  private final Measurements measurements =
      new Measurements(
          4,
          Duration.ofSeconds(20),
          clock,
          key -> measured.propagateEvent(new ResourceID(key.name(), key.namespace())));

  public SparseModelReconciler(
      WorkloadImages images,
      PrometheusProviders prometheus,
      StageLimits.Config stageLimits,
      @ConfigProperty(name = "sparserollout.serving.port") int servingPort,
      @ConfigProperty(name = "sparserollout.serving.min-ready-seconds") int minReadySeconds,
      PipelineMetrics metrics) {
    this.images = images;
    this.prometheus = prometheus;
    this.pipeline = new PipelineProgress(statuses, images, StageLimits.from(stageLimits));
    // Settings the pods cannot use stop the operator at start, not every reconcile.
    this.servingPort = ServingSettings.requireServingPort(servingPort);
    this.minReadySeconds = ServingSettings.requireMinReadySeconds(minReadySeconds);
    this.metrics = metrics;
  }

  @jakarta.annotation.PreDestroy
  void close() {
    measurements.close();
  }

  @Override
  public List<EventSource<?, SparseModel>> prepareEventSources(
      EventSourceContext<SparseModel> context) {
    return EventSources.of(context, images, prometheus, measured);
  }

  @Override
  public UpdateControl<SparseModel> reconcile(SparseModel model, Context<SparseModel> context) {
    MDC.put(
        "sparsemodel", model.getMetadata().getNamespace() + "/" + model.getMetadata().getName());
    try {
      return reconcileModel(model, context);
    } finally {
      MDC.remove("sparsemodel");
    }
  }

  private UpdateControl<SparseModel> reconcileModel(
      SparseModel model, Context<SparseModel> context) {
    KubernetesClient client = context.getClient();
    EventRecorder events = new EventRecorder(client, metrics::event);
    SparseModelStatus status = statuses.begin(model);
    Phase before = status.getPhase();
    if (!pipeline.validate(model, status, before, events)) {
      status.setProgress(null); // no stage runs on for an invalid spec
      return StatusCommit.commit(context, model, status, null, events);
    }
    var jobs = context.getSecondaryResources(Job.class);
    // After a recalibration the pipeline reads the spec recalibrated; serving reads it as written.
    status.setRecalibration(Recalibration.settle(model.getSpec(), status.getRecalibration()));
    boolean recalibrated = Recalibration.inEffect(model.getSpec(), status.getRecalibration());
    SparseModel pipelineModel = Recalibration.view(model, recalibrated);
    String revision = pipeline.revision(client, pipelineModel, recalibrated, status, jobs, events);
    StageObservation observed =
        StageObservation.of(
            pipelineModel, jobs, context.getSecondaryResources(Pod.class), revision);
    PipelineProgress.Outcome step =
        pipeline.advance(client, pipelineModel, status, before, revision, observed, events);

    Serving serving =
        new Serving(
            new ServingSettings(
                images.inferencePod(), images.sparsify(), servingPort, minReadySeconds),
            prometheus.all(),
            measurements,
            servingMemory);
    RolloutPlan rollout;
    try {
      rollout = serving.reconcile(client, context, model, status, Instant.now(clock));
      if (rollout.nameTaken() == null) {
        statuses.removeCondition(status, StatusAggregator.RESOURCES_OWNED);
      } else {
        nameTaken(model, status, rollout.nameTaken(), events);
      }
    } catch (OwnedResources.NameTaken taken) {
      nameTaken(model, status, taken.getMessage(), events);
      rollout = RolloutPlan.held(status.getPhase(), status.getRollout(), taken.getMessage());
    }
    record(model, status, rollout, events);
    watchDrift(model, status, serving, events);
    Duration recalibrating = recalibrate(model, status, events);
    statuses.summarize(status, rollout.message() == null ? step.message() : rollout.message());
    if (status.getPhase() != before) {
      count(status.getPhase(), before, observed, step.trainJobNode());
    }
    return StatusCommit.commit(
        context,
        model,
        status,
        earliest(
            earliest(step.retry(), rollout.requeue()),
            earliest(serving.driftInterval(), recalibrating)),
        events);
  }

  /**
   * The drift watch's reading into status, the QualityDrift condition (True while drifting) and its
   * events; without a watch in the spec, neither.
   */
  private void watchDrift(
      SparseModel model, SparseModelStatus status, Serving serving, EventRecorder events) {
    if (model.getSpec().rollout().analysis().driftWindow() == null) {
      status.setDrift(null);
      statuses.removeCondition(status, StatusAggregator.QUALITY_DRIFT);
      return;
    }
    serving
        .drift()
        .ifPresent(
            outcome -> {
              DriftStatus drift = outcome.status();
              status.setDrift(drift);
              if (drift != null && drift.message() != null) {
                boolean drifting = Boolean.TRUE.equals(drift.drifting());
                statuses.setCondition(
                    status,
                    StatusAggregator.QUALITY_DRIFT,
                    drifting ? "True" : "False",
                    drifting ? "AgreementBelowMinimum" : "Watching",
                    drifting
                        ? drift.message()
                        : "shadow agreement of "
                            + drift.revision()
                            + " with the dense model watched; not below minAgreement for the"
                            + " drift window",
                    model.getMetadata().getGeneration());
              }
              if (outcome.notice() != null) {
                events.record(model, outcome.notice().reason(), outcome.notice().message());
              }
            });
  }

  /**
   * With autoRecalibrate, a drifting stable's recalibration: counted in status, so the next
   * reconcile (asked for at once) starts its revision.
   */
  private Duration recalibrate(SparseModel model, SparseModelStatus status, EventRecorder events) {
    return Recalibration.due(model.getSpec(), status, Instant.now(clock))
        .map(
            next -> {
              status.setRecalibration(next);
              events.record(
                  model,
                  Reason.RECALIBRATION_STARTED,
                  next.fromRevision()
                      + " drifted: recalibration "
                      + next.count()
                      + " starts a revision calibrated on the captured samples, through the gate"
                      + " and a canary while "
                      + next.fromRevision()
                      + " serves");
              return Duration.ofSeconds(1);
            })
        .orElse(null);
  }

  private void nameTaken(
      SparseModel model, SparseModelStatus status, String message, EventRecorder events) {
    if (statuses.setProblem(
        status,
        StatusAggregator.RESOURCES_OWNED,
        "NameTaken",
        message,
        model.getMetadata().getGeneration())) {
      events.record(model, Reason.NAME_TAKEN, message);
    }
  }

  /** The rollout's phase, its status and events, and the TrafficRouting condition. */
  private void record(
      SparseModel model, SparseModelStatus status, RolloutPlan rollout, EventRecorder events) {
    String problem = rollout.trafficProblem();
    if (problem == null) {
      statuses.removeCondition(status, StatusAggregator.TRAFFIC_ROUTING);
    } else if (statuses.setProblem(
        status,
        StatusAggregator.TRAFFIC_ROUTING,
        "GatewayApiNotInstalled",
        problem,
        model.getMetadata().getGeneration())) {
      events.record(model, Reason.TRAFFIC_NOT_ROUTABLE, problem);
    }
    statuses.enter(status, rollout.phase(), rollout.message());
    status.setRollout(rollout.rollout());
    rollout.events().forEach(e -> events.record(model, e.reason(), e.message()));
  }

  /**
   * @param trainJobNode the fine-tune's Job when Kubeflow Trainer ran it (not the model's own Job,
   *     so not among the observed ones); null otherwise
   */
  private void count(Phase now, Phase before, StageObservation observed, Job trainJobNode) {
    metrics.transition(now);
    for (var entry : observed.jobs().entrySet()) {
      Stage stage = entry.getKey();
      if (stage.phase() == before) {
        metrics.stageFinished(
            stage, entry.getValue(), !(observed.states().get(stage) instanceof StageState.Failed));
      }
    }
    if (trainJobNode != null && Stage.FINETUNE.phase() == before) {
      metrics.stageFinished(Stage.FINETUNE, trainJobNode, now != Phase.FAILED);
    }
  }

  private static Duration earliest(Duration a, Duration b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    return a.compareTo(b) <= 0 ? a : b;
  }
}
