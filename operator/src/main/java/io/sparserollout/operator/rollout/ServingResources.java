package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.sparserollout.api.v1alpha1.CaptureSpec;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.PodSecurity;
import io.sparserollout.operator.pipeline.PodVolumes;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.pipeline.Storage;
import io.sparserollout.stage.FetchArgs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Desired serving resources, pure functions of the resource: one Deployment per served model, the
 * traffic Service (every pod labelled traffic=true: the split follows the replica counts) and the
 * baseline Service the canary mirrors to.
 */
public final class ServingResources {
  /** The inference pod's probe port (its MANAGEMENT_PORT), apart from the serving port. */
  public static final int MANAGEMENT_PORT = 8082;

  /** The inference pod's OIP v2 gRPC port (its GRPC_PORT; KServe's 8081). */
  public static final int GRPC_PORT = 8081;

  public static final String COMPONENT = "app.kubernetes.io/component";
  public static final String INFERENCE = "inference";
  public static final String TRAFFIC_LABEL = "sparserollout.io/traffic";
  static final String MODEL_DIR = "/models";
  static final String CAPTURE_DIR = "/capture";
  static final String CAPTURE_FOLDER = "capture-folder";
  private static final String MODEL_FOLDER = "/model-folder";

  private ServingResources() {}

  /** The Deployment serving {@code key}; also the prefix of its pods' names. */
  public static String name(SparseModel model, String key) {
    return OwnedResources.name(model, "-" + key);
  }

  /** The Service clients call: the SparseModel's own name. */
  public static String trafficService(SparseModel model) {
    return model.getMetadata().getName();
  }

  /** Where canaries mirror requests: the baseline Service's model URL. */
  public static String baselineUrl(SparseModel model, int port) {
    return "http://"
        + name(model, ServedModel.BASELINE)
        + "."
        + model.getMetadata().getNamespace()
        + ".svc:"
        + port
        + "/v2/models/"
        + model.getMetadata().getName();
  }

  public static Map<String, String> labels(SparseModel model, String key) {
    Map<String, String> labels = selector(model, key);
    labels.put(StageJobs.MANAGED_BY, StageJobs.OPERATOR);
    labels.put(TRAFFIC_LABEL, String.valueOf(!ServedModel.BASELINE.equals(key)));
    return labels;
  }

  private static Map<String, String> selector(SparseModel model, String key) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(StageJobs.MODEL_LABEL, model.getMetadata().getName());
    labels.put(StageJobs.REVISION_LABEL, key);
    labels.put(COMPONENT, INFERENCE);
    return labels;
  }

  private static boolean budgeted(SparseModel model) {
    return model.getSpec().rollout().maxExtraReplicas() != null;
  }

  public static Deployment deployment(
      SparseModel model, ServedModel served, int replicas, ServingSettings settings) {
    Map<String, String> labels = labels(model, served.key());
    CaptureSpec capture = captureOf(model, served);
    PodVolumes storage =
        capture == null
            ? PodVolumes.forServing(model)
            : PodVolumes.forCapturingServing(model, CAPTURE_DIR);
    List<Volume> volumes = new ArrayList<>(storage.volumes());
    List<VolumeMount> mounts = new ArrayList<>(storage.mounts());
    List<Container> init = new ArrayList<>();
    if (capture != null) {
      init.add(captureFolder(model, settings));
    }
    String modelPath = Storage.path(served.uri());
    // The plans built on other GPU products: each pod loads the one of its own GPU.
    List<String> otherPaths =
        new ArrayList<>(served.alsoOn().stream().map(o -> Storage.path(o.uri())).toList());
    // The store's ServiceAccount only for the fetch, and its credentials kept out of the
    // client-facing container.
    String serviceAccount = served.needsFetch() ? StageJobs.serviceAccount(model) : null;
    if (served.needsFetch()) {
      modelPath = MODEL_DIR + "/" + served.uri().substring(served.uri().lastIndexOf('/') + 1);
      volumes.add(new VolumeBuilder().withName("model").withNewEmptyDir().endEmptyDir().build());
      VolumeMount modelMount =
          new VolumeMountBuilder().withName("model").withMountPath(MODEL_DIR).build();
      mounts.add(modelMount);
      init.add(fetch(model, "fetch-model", served.uri(), modelPath, settings, modelMount));
      for (int i = 0; i < served.alsoOn().size(); i++) {
        String uri = served.alsoOn().get(i).uri();
        otherPaths.set(i, MODEL_DIR + "/gpu-" + (i + 1) + uri.substring(uri.lastIndexOf('/')));
        init.add(
            fetch(model, "fetch-model-" + (i + 1), uri, otherPaths.get(i), settings, modelMount));
      }
    }
    ResourceRequirements resources = resources(model);
    served.placement().requestGpu(resources);
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name(model, served.key()))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(Map.of(ServedModel.ANNOTATION, served.identity()))
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        // A pod counts as available (and lets the planner shrink the stable) only once it has been
        // Ready this long, so the Service's endpoints and kube-proxy have caught up with it;
        // without it a request met a Service between the stable's last pod and the canary's first.
        .withMinReadySeconds(settings.minReadySeconds())
        .withNewSelector()
        .withMatchLabels(selector(model, served.key()))
        .endSelector()
        // A changed template rolls the pods one surge pod at a time, never below the replica count;
        // under a pod budget one pod at a time in place (no pod past the budget), but never a lone
        // pod before its replacement.
        .withNewStrategy()
        .withType("RollingUpdate")
        .withNewRollingUpdate()
        .withMaxUnavailable(new IntOrString(budgeted(model) && replicas > 1 ? 1 : 0))
        .withMaxSurge(budgeted(model) && replicas > 1 ? new IntOrString(0) : null)
        .endRollingUpdate()
        .endStrategy()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .withAnnotations(podAnnotations(settings, serviceAccount, capture != null))
        .endMetadata()
        .withNewSpec()
        .withNodeSelector(served.placement().nodeSelector())
        .withAffinity(served.placement().affinity())
        .withTolerations(served.placement().tolerations())
        .withSecurityContext(PodSecurity.pod())
        // Neither stages nor inference pods talk to the API server.
        .withAutomountServiceAccountToken(false)
        // A stop takes up to SHUTDOWN_DELAY 5 s, REST's drain 20 s and gRPC's 5 s: room for all.
        .withTerminationGracePeriodSeconds(40L)
        .withServiceAccountName(serviceAccount)
        .withVolumes(volumes)
        .withInitContainers(init)
        .withContainers(
            new ContainerBuilder()
                .withName("inference")
                .withImage(settings.image())
                .withEnv(env(model, served, modelPath, otherPaths, settings, capture))
                .addNewPort()
                .withName("http")
                .withContainerPort(settings.port())
                // Part of the list's key for server-side apply: it must be spelled out.
                .withProtocol("TCP")
                .endPort()
                .addNewPort()
                .withName("grpc")
                .withContainerPort(GRPC_PORT)
                .withProtocol("TCP")
                .endPort()
                .addNewPort()
                .withName("management")
                .withContainerPort(MANAGEMENT_PORT)
                .withProtocol("TCP")
                .endPort()
                // Probes on their own port: clients using up the serving port's connections cannot
                // make a busy pod look dead.
                .withReadinessProbe(probe("/health/ready", 3))
                .withLivenessProbe(probe("/health/live", 3))
                // The model loads before the server listens: allow up to 5 minutes for that.
                .withStartupProbe(probe("/health/live", 60))
                .withResources(resources)
                .withVolumeMounts(mounts)
                .withSecurityContext(PodSecurity.container())
                .build())
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The PodDisruptionBudget of one served model's Deployment: a node drain evicts its pods one at a
   * time, each replaced before the next goes (a single-pod model can still be drained).
   *
   * @param apiVersion policy/v1, or policy/v1beta1 where the server has no v1 (before 1.21)
   */
  public static GenericKubernetesResource disruptionBudget(
      SparseModel model, String key, String apiVersion) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(StageJobs.MANAGED_BY, StageJobs.OPERATOR);
    labels.putAll(selector(model, key));
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("maxUnavailable", 1);
    spec.put("selector", Map.of("matchLabels", selector(model, key)));
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(apiVersion)
        .withKind("PodDisruptionBudget")
        .withNewMetadata()
        .withName(name(model, key))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  public static Service trafficService(SparseModel model, ServingSettings settings) {
    return service(model, trafficService(model), trafficSelector(model), settings);
  }

  /** The pods that take client traffic: the stable's and the canary's. */
  static Map<String, String> trafficSelector(SparseModel model) {
    Map<String, String> selector = new LinkedHashMap<>();
    selector.put(StageJobs.MODEL_LABEL, model.getMetadata().getName());
    selector.put(COMPONENT, INFERENCE);
    selector.put(TRAFFIC_LABEL, "true");
    return selector;
  }

  public static Service baselineService(SparseModel model, ServingSettings settings) {
    return service(
        model, name(model, ServedModel.BASELINE), selector(model, ServedModel.BASELINE), settings);
  }

  /** The Service in front of one served model's pods (a route backend with gateway-api). */
  public static Service servedModelService(
      SparseModel model, String key, ServingSettings settings) {
    return service(model, name(model, key), selector(model, key), settings);
  }

  /** Labelled like its pods, so Services of retired models are found and deleted with them. */
  private static Service service(
      SparseModel model, String name, Map<String, String> selector, ServingSettings settings) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(StageJobs.MANAGED_BY, StageJobs.OPERATOR);
    labels.putAll(selector);
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withNewSpec()
        .withSelector(selector)
        .addNewPort()
        .withName("http")
        // Part of the list's key for server-side apply: it must be spelled out.
        .withProtocol("TCP")
        .withPort(settings.port())
        .withTargetPort(new IntOrString("http"))
        .endPort()
        .addNewPort()
        .withName("grpc")
        .withProtocol("TCP")
        // Gateways and meshes read this to speak HTTP/2 in clear text to the pods.
        .withAppProtocol("kubernetes.io/h2c")
        .withPort(GRPC_PORT)
        .withTargetPort(new IntOrString("grpc"))
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * The capture settings of a served model's pods: the pods clients reach, stable and canary alike,
   * so promotion changes no pod. Never the dense baseline, which sees only copies of requests.
   */
  private static CaptureSpec captureOf(SparseModel model, ServedModel served) {
    CaptureSpec capture = model.getSpec().rollout().capture();
    if (capture == null
        || ServedModel.BASELINE.equals(served.key())
        || Storage.storeClaim(model) == null) {
      return null;
    }
    return capture;
  }

  private static List<EnvVar> env(
      SparseModel model,
      ServedModel served,
      String modelPath,
      List<String> otherPaths,
      ServingSettings settings,
      CaptureSpec capture) {
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("MODEL_NAME", model.getMetadata().getName(), null));
    env.add(new EnvVar("MODEL_PATH", modelPath, null));
    env.add(new EnvVar("BACKEND", served.backend(), null));
    env.add(new EnvVar("PORT", String.valueOf(settings.port()), null));
    env.add(new EnvVar("MANAGEMENT_PORT", String.valueOf(MANAGEMENT_PORT), null));
    env.add(new EnvVar("GRPC_PORT", String.valueOf(GRPC_PORT), null));
    if ("tensorrt".equals(served.backend())) {
      // The plan's shape profile bounds what a request may ask: more rows or a longer sequence is
      // the client's 400, never a failed run that would count against the canary. (ONNX Runtime
      // pods keep the pod's own bounds.)
      var shapes = model.getSpec().engine().shapes();
      env.add(new EnvVar("MAX_BATCH_SIZE", String.valueOf(shapes.maxBatch()), null));
      env.add(new EnvVar("MAX_DIMENSION", String.valueOf(shapes.maxSequence()), null));
      env.add(new EnvVar("MIN_BATCH_SIZE", String.valueOf(shapes.minBatch()), null));
      env.add(new EnvVar("MIN_DIMENSION", String.valueOf(shapes.minSequence()), null));
    }
    if (served.sha256() != null) {
      // The gated engine, and no other file put in its place since.
      env.add(new EnvVar("MODEL_SHA256", served.sha256(), null));
    }
    if (!served.alsoOn().isEmpty()) {
      // In a fixed order: the template must read the same on every reconcile.
      List<PlanEnv> plans = new ArrayList<>();
      for (int i = 0; i < otherPaths.size(); i++) {
        plans.add(new PlanEnv(otherPaths.get(i), served.alsoOn().get(i).sha256()));
      }
      env.add(new EnvVar("OTHER_PLANS", json(plans), null));
    }
    if (served.shadowUrl() != null) {
      env.add(new EnvVar("SHADOW_BASELINE_URL", served.shadowUrl(), null));
      env.add(new EnvVar("SHADOW_FRACTION", String.valueOf(served.shadowFraction()), null));
      switch (model.getSpec().source().taskOrDefault()) {
        // A classifier agrees when it predicts the dense model's class, a ranker when it puts
        // the same of a request's documents first; cosine (the pod's default, each output's rows)
        // is left unset for embeddings and raw outputs, so their pods' template is as before.
        case CLASSIFICATION -> env.add(new EnvVar("SHADOW_METRIC", "top1", null));
        case RANKING -> env.add(new EnvVar("SHADOW_METRIC", "top1-document", null));
        case EMBEDDING, TENSOR -> {}
      }
    }
    if (capture != null) {
      env.add(new EnvVar("CAPTURE_DIR", CAPTURE_DIR, null));
      env.add(new EnvVar("CAPTURE_ENABLED", String.valueOf(capture.capturing()), null));
      env.add(new EnvVar("CAPTURE_FRACTION", String.valueOf(capture.fractionOrDefault()), null));
      env.add(
          new EnvVar("CAPTURE_MAX_PER_HOUR", String.valueOf(capture.maxPerHourOrDefault()), null));
      env.add(new EnvVar("CAPTURE_MAX_TOTAL", String.valueOf(capture.maxTotalOrDefault()), null));
      env.add(
          new EnvVar(
              "CAPTURE_RETENTION",
              GoDuration.parse(capture.retentionOrDefault()).toSeconds() + "s",
              null));
    }
    return env;
  }

  /**
   * Creates the model's capture folder as the pods' user before the server mounts it: a subPath the
   * kubelet had to create would be root's, and the server could not write to it on volumes that
   * keep ownership (hostPath, NFS). Only this one command sees the store writable.
   */
  private static Container captureFolder(SparseModel model, ServingSettings settings) {
    String captured = Storage.captureSubPath(model);
    return new ContainerBuilder()
        .withName(CAPTURE_FOLDER)
        .withImage(settings.fetchImage())
        .withCommand("mkdir", "-p", MODEL_FOLDER + "/" + Storage.CAPTURE_FOLDER)
        .withVolumeMounts(
            new VolumeMountBuilder()
                .withName("pvc-0")
                .withMountPath(MODEL_FOLDER)
                // The model's own folder, which its stages made: never another model's files.
                .withSubPath(captured.substring(0, captured.lastIndexOf('/')))
                .build())
        .withSecurityContext(PodSecurity.container())
        .build();
  }

  /** One plan of OTHER_PLANS, as the pod reads it. */
  private record PlanEnv(String path, String sha256) {}

  private static String json(Object value) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Copies an s3:// or https:// model into the pod's model directory before the server starts. */
  private static Container fetch(
      SparseModel model,
      String name,
      String uri,
      String modelPath,
      ServingSettings settings,
      VolumeMount modelMount) {
    return new ContainerBuilder()
        .withName(name)
        .withImage(settings.fetchImage())
        .withArgs(new FetchArgs(uri, modelPath).toArgs())
        .withEnv(StageJobs.env(model))
        .withVolumeMounts(
            modelMount, new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build())
        .withSecurityContext(PodSecurity.container())
        .build();
  }

  private static Map<String, String> podAnnotations(
      ServingSettings settings, String serviceAccount, boolean capturing) {
    Map<String, String> annotations = new java.util.TreeMap<>();
    annotations.put("prometheus.io/scrape", "true");
    annotations.put("prometheus.io/port", String.valueOf(settings.port()));
    annotations.put("prometheus.io/path", "/metrics");
    if (serviceAccount != null) {
      // EKS's IRSA and Pod Identity webhooks then leave the serving container without AWS
      // credentials; only the fetch init container gets them.
      annotations.put(
          "eks.amazonaws.com/skip-containers",
          capturing ? "inference," + CAPTURE_FOLDER : "inference");
    }
    return annotations;
  }

  private static Probe probe(String path, int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withPort(new IntOrString("management"))
        .endHttpGet()
        .withPeriodSeconds(5)
        // Explicit: the default second is short for a JVM pausing under load.
        .withTimeoutSeconds(2)
        .withFailureThreshold(failureThreshold)
        .build();
  }

  private static ResourceRequirements resources(SparseModel model) {
    return OwnedResources.resources(
        Map.of("cpu", new Quantity("1"), "memory", new Quantity("1Gi")),
        Map.of("memory", new Quantity("2Gi")),
        model.getSpec().rollout().resources());
  }
}
