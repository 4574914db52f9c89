package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.k8s.ServerSideApply;
import io.sparserollout.operator.pipeline.StageJobs;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Talks to the API for the rollout: observes the serving Deployments from the informer cache, asks
 * {@link RolloutPlanner} for the next move, then creates, scales and deletes to match it.
 */
public final class Serving {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(Serving.class);
  private final ServingSettings settings;
  private final Map<String, String> prometheus;
  private final Measurements measurements;
  private final ServingMemory memory;

  /** Readings for the drift watch are kept apart from a canary's of the same revision. */
  private static final String DRIFT = "/drift";

  private DriftWatch.Outcome drift;
  private Duration driftInterval;

  /**
   * @param prometheus the Prometheus servers analysis may query, by name (operator configuration)
   * @param measurements where canary measurements are taken, off the reconcile thread
   * @param memory what earlier reconciles of this process wrote, shared by every reconcile
   */
  public Serving(
      ServingSettings settings,
      Map<String, String> prometheus,
      Measurements measurements,
      ServingMemory memory) {
    this.settings = settings;
    this.prometheus = prometheus;
    this.measurements = measurements;
    this.memory = memory;
  }

  public RolloutPlan reconcile(
      KubernetesClient client,
      Context<SparseModel> context,
      SparseModel model,
      SparseModelStatus status,
      Instant now) {
    Map<String, Deployment> deployments = new HashMap<>();
    List<Deployment> misnamed = new java.util.ArrayList<>();
    for (Deployment d : context.getSecondaryResources(Deployment.class)) {
      if (OwnedResources.ownedBy(d, model)
          && ServingResources.INFERENCE.equals(label(d, ServingResources.COMPONENT))) {
        String key = label(d, StageJobs.REVISION_LABEL);
        if (d.getMetadata().getName().equals(ServingResources.name(model, key))) {
          deployments.put(key, d);
        } else {
          // Named by an earlier naming rule (a long model name is now cut with a hash): the
          // Deployment of the current name replaces it once that one serves in full.
          misnamed.add(d);
        }
      }
    }
    Map<String, RolloutPlanner.Observed> observed = new HashMap<>();
    deployments.forEach(
        (key, d) ->
            observed.put(
                key,
                new RolloutPlanner.Observed(
                    orZero(d.getSpec().getReplicas()),
                    d.getStatus() == null ? 0 : orZero(d.getStatus().getAvailableReplicas()))));
    Map<String, String> annotations = model.getMetadata().getAnnotations();
    var inputs =
        new RolloutPlanner.Inputs(
            status.getRevision(),
            status.getPhase(),
            model.getSpec().rollout(),
            status.getRollout(),
            observed,
            annotations == null ? null : annotations.get(RolloutPlanner.PROMOTE_ANNOTATION),
            annotations == null ? null : annotations.get(RolloutPlanner.ABORT_ANNOTATION),
            now);
    boolean routed = model.getSpec().rollout().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API;
    if (routed && servesTraffic(status) && !gatewayApiInstalled(client)) {
      return RolloutPlan.blocked(
          status.getPhase(),
          status.getRollout(),
          "trafficMode gateway-api needs the Gateway API CRDs (" + TrafficRoutes.CRD + ")");
    }
    RolloutPlan plan =
        RolloutPlanner.planWith(
            inputs, () -> measured(client, context, model, status.getRevision(), deployments));

    Map<String, Service> services = services(context, model);
    if (!plan.replicas().isEmpty()) {
      for (Service service :
          List.of(
              ServingResources.trafficService(model, settings),
              ServingResources.baselineService(model, settings))) {
        ServerSideApply.apply(context, services.get(service.getMetadata().getName()), service);
      }
    }
    // Shrinks before growths: under a pod budget the sum never passes it between two writes.
    plan.replicas().entrySet().stream()
        .sorted(
            java.util.Comparator.comparing(
                e -> {
                  Deployment d = deployments.get(e.getKey());
                  return d == null || e.getValue() >= orZero(d.getSpec().getReplicas());
                }))
        .forEach(
            e -> {
              String key = e.getKey();
              int replicas = e.getValue();
              Deployment existing = deployments.get(key);
              Optional<ServedModel> served = served(model, status, key, existing);
              if (served.isPresent()) {
                boolean written =
                    ServerSideApply.apply(
                        context,
                        existing,
                        ServingResources.deployment(model, served.get(), replicas, settings));
                applyDisruptionBudget(client, context, model, key, written);
              } else {
                if (orZero(existing.getSpec().getReplicas()) != replicas) {
                  scale(client, existing, replicas);
                }
                applyDisruptionBudget(client, context, model, key, false);
              }
            });
    for (Deployment old : misnamed) {
      Deployment current = deployments.get(label(old, StageJobs.REVISION_LABEL));
      if (current != null
          && current.getStatus() != null
          && orZero(current.getStatus().getAvailableReplicas())
              >= orZero(current.getSpec().getReplicas())) {
        client.resource(old).delete();
      }
    }
    if (routed && !plan.routes().isEmpty()) {
      route(client, context, model, plan.routes(), services);
    }
    String nameTaken = null;
    if (model.getSpec().rollout().autoscaling() == null || !plan.replicas().isEmpty()) {
      try {
        AutoscalerSync.sync(
            client, context.getControllerConfiguration().fieldManager(), model, memory);
      } catch (OwnedResources.NameTaken taken) {
        // The rollout goes on at the replicas the spec has; the condition says why none scale.
        nameTaken = taken.getMessage();
      }
    }
    if (plan.retireOthers()) {
      deployments.forEach(
          (key, d) -> {
            if (!plan.replicas().containsKey(key)) {
              client.resource(d).delete();
              deleteDisruptionBudget(client, model, key);
            }
          });
      for (Service service : services.values()) {
        String key = label(service, StageJobs.REVISION_LABEL);
        if (key != null && !plan.replicas().containsKey(key)) {
          client.resource(service).delete();
        }
      }
    }
    watchDrift(client, context, model, status, plan, deployments, now);
    RolloutPlan recorded = withStableRecord(plan, deployments);
    return withScale(model, nameTaken == null ? recorded : recorded.withNameTaken(nameTaken));
  }

  /** This reconcile's reading of the promoted model's drift; empty without one. */
  public Optional<DriftWatch.Outcome> drift() {
    return Optional.ofNullable(drift);
  }

  /** When the drift watch reads again; null while the model is not watched. */
  public Duration driftInterval() {
    return driftInterval;
  }

  /**
   * With spec.rollout.analysis.driftWindow, once a revision is the stable (promoted, and on while a
   * later revision runs, fails or is rolled back), its ready pods' counters are read as a canary's
   * are (off the reconcile thread), an interval apart, and judged by {@link DriftWatch}.
   */
  private void watchDrift(
      KubernetesClient client,
      Context<SparseModel> context,
      SparseModel model,
      SparseModelStatus status,
      RolloutPlan plan,
      Map<String, Deployment> deployments,
      Instant now) {
    AnalysisSpec analysis = model.getSpec().rollout().analysis();
    String stable = plan.rollout() == null ? null : plan.rollout().stableRevision();
    if (analysis.driftWindow() == null || stable == null || ServedModel.DENSE.equals(stable)) {
      return;
    }
    Duration interval = GoDuration.parse(analysis.interval());
    // At least a second: an interval of 0s would reconcile without pause.
    driftInterval =
        interval.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : interval;
    if (!DriftWatch.due(status.getDrift(), stable, driftInterval, now)) {
      return;
    }
    Deployment deployment = deployments.get(stable);
    List<Pod> labelled = readyPods(context, stable);
    var metadata = model.getMetadata();
    drift =
        measurements
            .take(
                new Measurements.Key(
                    metadata.getNamespace(), metadata.getName(), metadata.getUid(), stable + DRIFT),
                () -> {
                  List<Pod> ready = ofDeployment(client, labelled, deployment);
                  AnalysisVerdict read = judge(model, stable, ready);
                  // Which pods were read travels with their counters (as the verdict's words):
                  // sums are only comparable between readings of the same pods.
                  return new AnalysisVerdict(
                      read.outcome(), DriftWatch.podsRead(ready), read.measurement());
                })
            // Nothing read (metrics unavailable, no pod ready): no reading, not a zero one.
            .filter(v -> v.measurement().requests() > 0 || v.measurement().agreementCount() > 0)
            .map(
                v ->
                    DriftWatch.next(
                        status.getDrift(), stable, v.message(), v.measurement(), analysis, now))
            .orElse(null);
  }

  /** The plan's status with what the stable's Deployment records it serves, when it exists. */
  private static RolloutPlan withStableRecord(
      RolloutPlan plan, Map<String, Deployment> deployments) {
    RolloutStatus rollout = plan.rollout();
    Deployment stable =
        rollout == null || rollout.stableRevision() == null
            ? null
            : deployments.get(rollout.stableRevision());
    String recorded = stable == null ? null : ServedModel.recordedText(stable);
    if (recorded == null || recorded.equals(rollout.stableServes())) {
      return plan;
    }
    return plan.withRollout(RolloutStatus.from(rollout).stableServes(recorded).build());
  }

  /**
   * The plan's status with what the scale subresource reports (the HPA reads it); 0 once nothing is
   * served.
   */
  private static RolloutPlan withScale(SparseModel model, RolloutPlan plan) {
    if (plan.rollout() == null || (plan.replicas().isEmpty() && !plan.retireOthers())) {
      return plan;
    }
    int pods =
        plan.replicas().entrySet().stream()
            .filter(e -> !ServedModel.BASELINE.equals(e.getKey()))
            .mapToInt(Map.Entry::getValue)
            .sum();
    return plan.withRollout(
        RolloutStatus.from(plan.rollout()).scale(pods, Autoscaler.podSelector(model)).build());
  }

  /**
   * Applies a served model's PodDisruptionBudget when its Deployment was written, or once per
   * operator process otherwise (so Deployments made before budgets existed get theirs), not on
   * every look: a model at rest costs no writes. A failure is logged; serving goes on without it.
   */
  private void applyDisruptionBudget(
      KubernetesClient client,
      Context<SparseModel> context,
      SparseModel model,
      String key,
      boolean deploymentWritten) {
    String id =
        model.getMetadata().getNamespace()
            + "/"
            + ServingResources.name(model, key)
            + "@"
            + model.getMetadata().getUid();
    if (!deploymentWritten && memory.budgetsApplied.contains(id)) {
      return;
    }
    try {
      client
          .resource(ServingResources.disruptionBudget(model, key, memory.policyVersion(client)))
          .fieldManager(context.getControllerConfiguration().fieldManager())
          .forceConflicts()
          .serverSideApply();
      memory.budgetsApplied.add(id);
    } catch (KubernetesClientException e) {
      LOG.warnf("PodDisruptionBudget %s not applied: %s", id, e.getMessage());
    }
  }

  private void deleteDisruptionBudget(KubernetesClient client, SparseModel model, String key) {
    memory.budgetsApplied.remove(
        model.getMetadata().getNamespace()
            + "/"
            + ServingResources.name(model, key)
            + "@"
            + model.getMetadata().getUid());
    client
        .genericKubernetesResources(memory.policyVersion(client), "PodDisruptionBudget")
        .inNamespace(model.getMetadata().getNamespace())
        .withName(ServingResources.name(model, key))
        .delete();
  }

  /** Whether the phase is one in which anything is served. */
  private static boolean servesTraffic(SparseModelStatus status) {
    return status.getPhase() == Phase.GATE_PASSED || owns(status.getPhase());
  }

  private static boolean gatewayApiInstalled(KubernetesClient client) {
    return client.apiextensions().v1().customResourceDefinitions().withName(TrafficRoutes.CRD).get()
        != null;
  }

  /**
   * A Service per routed model, the HTTPRoute, and the GRPCRoute where its CRD is installed; each
   * route patched only when its spec differs.
   */
  private void route(
      KubernetesClient client,
      Context<SparseModel> context,
      SparseModel model,
      Map<String, Integer> weights,
      Map<String, Service> services) {
    for (String key : weights.keySet()) {
      Service desired = ServingResources.servedModelService(model, key, settings);
      ServerSideApply.apply(context, services.get(desired.getMetadata().getName()), desired);
    }
    applyRoute(
        client, TrafficRoutes.route(TrafficRoutes.Kind.HTTP, model, weights, settings), model);
    if (model.getSpec().rollout().gateway().grpcSectionName() == null) {
      removeGrpcRoute(client, model);
    } else if (grpcRoutesInstalled(client)) {
      // Optional beside the HTTPRoute: a GRPCRoute that cannot be written is logged, and the
      // REST split goes on.
      try {
        applyRoute(
            client, TrafficRoutes.route(TrafficRoutes.Kind.GRPC, model, weights, settings), model);
      } catch (OwnedResources.NameTaken | KubernetesClientException e) {
        LOG.warnf(
            "GRPCRoute %s/%s not written: %s",
            model.getMetadata().getNamespace(), model.getMetadata().getName(), e.getMessage());
      }
    }
  }

  /**
   * Whether the GRPCRoute CRD exists. An operator whose role predates GRPCRoutes may not read it:
   * its HTTP traffic is split all the same.
   */
  private static boolean grpcRoutesInstalled(KubernetesClient client) {
    try {
      var crd =
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(TrafficRoutes.GRPC_CRD)
              .get();
      // Gateway API before v1.1 served GRPCRoute only as v1alpha2: no route of ours there.
      return crd != null
          && crd.getSpec().getVersions().stream()
              .anyMatch(v -> "v1".equals(v.getName()) && Boolean.TRUE.equals(v.getServed()));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 403) {
        throw e;
      }
      LOG.warnf(
          "no GRPCRoute written: the operator may not read the CRD %s (%s)",
          TrafficRoutes.GRPC_CRD, e.getMessage());
      return false;
    }
  }

  /**
   * A GRPCRoute this model wrote before its spec dropped grpcSectionName goes; looked for once per
   * spec generation (and every few minutes), not on every reconcile.
   */
  private void removeGrpcRoute(KubernetesClient client, SparseModel model) {
    if (!memory.grpcRoutes.due(model)) {
      return;
    }
    var route =
        client
            .genericKubernetesResources(TrafficRoutes.API_VERSION, TrafficRoutes.Kind.GRPC.kind)
            .inNamespace(model.getMetadata().getNamespace())
            .withName(model.getMetadata().getName());
    try {
      if (!grpcRoutesInstalled(client)) {
        memory.grpcRoutes.checked(model);
        return;
      }
      GenericKubernetesResource existing = route.get();
      if (existing != null && OwnedResources.ownedBy(existing, model)) {
        route.delete();
      }
      memory.grpcRoutes.checked(model);
    } catch (KubernetesClientException e) {
      LOG.warnf("GRPCRoute %s not removed: %s", model.getMetadata().getName(), e.getMessage());
    }
  }

  private static void applyRoute(
      KubernetesClient client, GenericKubernetesResource desired, SparseModel model) {
    var routes =
        client
            .genericKubernetesResources(desired.getApiVersion(), desired.getKind())
            .inNamespace(model.getMetadata().getNamespace());
    GenericKubernetesResource existing = routes.withName(model.getMetadata().getName()).get();
    if (existing != null && !OwnedResources.ownedBy(existing, model)) {
      throw new OwnedResources.NameTaken(existing);
    }
    if (existing == null) {
      createIfAbsent(client, desired);
    } else if (!desired
        .getAdditionalProperties()
        .get("spec")
        .equals(existing.getAdditionalProperties().get("spec"))) {
      routes
          .withName(model.getMetadata().getName())
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              client.getKubernetesSerialization().asJson(Map.of("spec", mergePatch(desired))));
    }
  }

  /** The route's spec as a merge patch: a field the spec no longer has is removed (null). */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> mergePatch(GenericKubernetesResource desired) {
    Map<String, Object> spec =
        new java.util.HashMap<>(
            (Map<String, Object>) desired.getAdditionalProperties().get("spec"));
    spec.putIfAbsent("hostnames", null);
    return spec;
  }

  private Optional<ServedModel> served(
      SparseModel model, SparseModelStatus status, String key, Deployment existing) {
    AnalysisSpec analysis = model.getSpec().rollout().analysis();
    return desiredServing(model, status, key, existing)
        .map(
            s ->
                ServedModel.DENSE.equals(key) || ServedModel.BASELINE.equals(key)
                    ? s
                    : s.mirroringTo(
                        ServingResources.baselineUrl(model, settings.port()),
                        analysis.shadowFraction()));
  }

  /**
   * What the Deployment of {@code key} is re-applied with, or empty when it is only scaled:
   *
   * <ul>
   *   <li>the baseline follows the spec's source model (it is what the current revision is judged
   *       against);
   *   <li>the dense stable keeps the model it was made with: a new source goes through the gate and
   *       a canary like any other change, so a dense Deployment recording another model is only
   *       scaled;
   *   <li>the current revision follows the spec once its engine is known; before that (its pipeline
   *       running again after a revert) it serves as its Deployment records;
   *   <li>an older revision's pods were made for an earlier spec (its store, its credentials): they
   *       are only scaled.
   * </ul>
   */
  static Optional<ServedModel> desiredServing(
      SparseModel model, SparseModelStatus status, String key, Deployment existing) {
    if (ServedModel.BASELINE.equals(key)) {
      return Optional.of(ServedModel.dense(model, key));
    }
    if (ServedModel.DENSE.equals(key)) {
      ServedModel fromSpec = ServedModel.dense(model, key);
      return existing == null
          ? Optional.of(fromSpec)
          : ServedModel.recorded(key, existing)
              .filter(recorded -> recorded.uri().equals(fromSpec.uri()))
              .map(recorded -> fromSpec);
    }
    // An engine stage still recording its GPU products' results has no engine to serve yet.
    EngineStatus engine =
        status.getEngine() == null || !status.getEngine().built() ? null : status.getEngine();
    boolean current = key.equals(status.getRevision());
    if (existing == null) {
      // A stable whose Deployment is gone while another revision (or this one again) is under
      // way comes back serving what it served: its file's place and digest are not the spec's.
      RolloutStatus rollout = status.getRollout();
      if ((!current || engine == null) && rollout != null && key.equals(rollout.stableRevision())) {
        Optional<ServedModel> recorded = ServedModel.fromIdentity(key, rollout.stableServes());
        if (recorded.isPresent()) {
          return recorded;
        }
      }
      return Optional.of(
          ServedModel.revision(
                  model,
                  key,
                  engine == null ? null : engine.gpuProduct(),
                  engine == null || !current ? null : engine.artifactUri())
              .withSha256(engine == null ? null : engine.sha256())
              .alsoOn(current ? ServedModel.otherPlans(engine) : List.of()));
    }
    if (!current) {
      return Optional.empty();
    }
    return engine != null
        ? Optional.of(
            ServedModel.revision(model, key, engine.gpuProduct(), engine.artifactUri())
                .withSha256(engine.sha256())
                .alsoOn(ServedModel.otherPlans(engine)))
        : ServedModel.recorded(key, existing);
  }

  private static Map<String, Service> services(Context<SparseModel> context, SparseModel model) {
    return context.getSecondaryResources(Service.class).stream()
        .filter(s -> OwnedResources.ownedBy(s, model))
        .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s, (a, b) -> a));
  }

  private static void scale(KubernetesClient client, Deployment deployment, int replicas) {
    client
        .apps()
        .deployments()
        .inNamespace(deployment.getMetadata().getNamespace())
        .withName(deployment.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":" + replicas + "}}");
  }

  /**
   * The canary's latest measurement, or empty while one is taken: the ready pods are read here, the
   * ReplicaSet checks and the metric reads happen on the measurement pool.
   */
  private Optional<AnalysisVerdict> measured(
      KubernetesClient client,
      Context<SparseModel> context,
      SparseModel model,
      String key,
      Map<String, Deployment> deployments) {
    Deployment deployment = deployments.get(key);
    List<Pod> labelled = readyPods(context, key);
    var metadata = model.getMetadata();
    return measurements.take(
        new Measurements.Key(metadata.getNamespace(), metadata.getName(), metadata.getUid(), key),
        () -> judge(model, key, ofDeployment(client, labelled, deployment)));
  }

  /** The ready inference pods labelled with the served model {@code key}. */
  private static List<Pod> readyPods(Context<SparseModel> context, String key) {
    return context.getSecondaryResources(Pod.class).stream()
        .filter(p -> key.equals(label(p, StageJobs.REVISION_LABEL)))
        .filter(p -> ServingResources.INFERENCE.equals(label(p, ServingResources.COMPONENT)))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(Serving::isReady)
        .toList();
  }

  /** Of those, the ones the Deployment's own ReplicaSets made (read on the measurement pool). */
  private static List<Pod> ofDeployment(
      KubernetesClient client, List<Pod> labelled, Deployment deployment) {
    return deployment == null
        ? List.of()
        : ServingPods.ofDeployment(client, labelled, deployment.getMetadata().getUid());
  }

  private AnalysisVerdict judge(SparseModel model, String key, List<Pod> ready) {
    AnalysisSpec spec = model.getSpec().rollout().analysis();
    try {
      MetricsSource source = source(spec);
      Measurement m =
          source.measure(
              model.getMetadata().getNamespace(), ServingResources.name(model, key), ready);
      return AnalysisVerdict.judge(m, spec);
    } catch (MetricsSource.MetricsUnavailable e) {
      return new AnalysisVerdict(
          AnalysisVerdict.Outcome.INCONCLUSIVE,
          "metrics unavailable: " + e.getMessage(),
          Measurement.empty());
    }
  }

  /** The pods themselves, or the allowed Prometheus the spec names. */
  private MetricsSource source(AnalysisSpec spec) throws MetricsSource.MetricsUnavailable {
    if (spec.prometheus() == null) {
      return new PodScraper(settings.port());
    }
    String url = prometheus.get(spec.prometheus());
    if (url == null) {
      throw new MetricsSource.MetricsUnavailable(
          "no Prometheus named "
              + spec.prometheus()
              + " is allowed (the operator's ConfigMap sparserollout-prometheus-providers names "
              + (prometheus.isEmpty() ? "none" : String.join(", ", prometheus.keySet()))
              + ")");
    }
    return new PrometheusQueries(url);
  }

  private static boolean isReady(Pod pod) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static void createIfAbsent(KubernetesClient client, HasMetadata resource) {
    try {
      client.resource(resource).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  private static String label(HasMetadata resource, String key) {
    Map<String, String> labels = resource.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }

  private static int orZero(Integer value) {
    return value == null ? 0 : value;
  }

  /** Phases in which the rollout, not the pipeline, decides the phase. */
  public static boolean owns(Phase phase) {
    return phase == Phase.ROLLING_OUT || phase == Phase.PROMOTED || phase == Phase.ROLLED_BACK;
  }
}
