package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ServingResourcesTest {
  static final ServingSettings SETTINGS =
      new ServingSettings("sparserollout/inference-pod:test", "sparserollout/sparsify:test", 8080);
  static final String REV = "abcdef0123";

  static Map<String, String> env(Container c) {
    return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  @Test
  void aDeploymentRecordsWhatItServesSoALaterSpecCannotChangeAnOlderRevision() {
    SparseModel cpu = Fixtures.minilm();
    SparseModel gpu =
        Fixtures.minilm(
            s ->
                s.with("engine")
                    .put("backend", "tensorrt")
                    .with("gpu")
                    .put("migProfile", "1g.10gb"));
    for (ServedModel served :
        java.util.List.of(
            ServedModel.revision(cpu, REV, null).withSha256("e".repeat(64)),
            ServedModel.revision(gpu, REV, "NVIDIA-A100-SXM4-40GB"))) {
      Deployment d = ServingResources.deployment(cpu, served, 1, SETTINGS);

      assertThat(ServedModel.recorded(REV, d)).contains(served);
    }
    // The gated engine's digest goes to the pod, which refuses any other file.
    assertThat(
            ServingResources.deployment(
                    cpu,
                    ServedModel.revision(cpu, REV, null).withSha256("e".repeat(64)),
                    1,
                    SETTINGS)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("MODEL_SHA256");
              assertThat(e.getValue()).isEqualTo("e".repeat(64));
            });
    Deployment unrecorded =
        ServingResources.deployment(cpu, ServedModel.revision(cpu, REV, null), 1, SETTINGS);
    unrecorded.getMetadata().setAnnotations(Map.of(ServedModel.ANNOTATION, "{not json"));
    assertThat(ServedModel.recorded(REV, unrecorded)).isEmpty();
  }

  @Test
  void aRevisionServesItsEngineFromTheStoreAndMirrorsToTheBaseline() {
    SparseModel model = Fixtures.minilm();
    ServedModel served =
        ServedModel.revision(model, REV, null)
            .mirroringTo(ServingResources.baselineUrl(model, 8080), 0.25);
    Deployment d = ServingResources.deployment(model, served, 3, SETTINGS);

    assertThat(d.getMetadata().getName()).isEqualTo("minilm-cpu-" + REV);
    assertThat(d.getSpec().getReplicas()).isEqualTo(3);
    assertThat(d.getSpec().getMinReadySeconds())
        .isEqualTo(ServingSettings.DEFAULT_MIN_READY_SECONDS);
    assertThat(d.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getController()).isTrue());
    assertThat(d.getSpec().getSelector().getMatchLabels())
        .containsEntry("sparserollout.io/revision", REV)
        .doesNotContainKey(ServingResources.TRAFFIC_LABEL);
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(ServingResources.TRAFFIC_LABEL, "true");
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(env(c))
        .containsEntry("MODEL_NAME", "minilm-cpu")
        .containsEntry(
            "MODEL_PATH",
            "/mnt/artifacts/sparserollout/ml/minilm-cpu/" + REV + "/engine/model.onnx")
        .containsEntry("BACKEND", "onnxruntime")
        .containsEntry("PORT", "8080")
        .doesNotContainKey("MAX_DIMENSION")
        .containsEntry(
            "SHADOW_BASELINE_URL", "http://minilm-cpu-baseline.ml.svc:8080/v2/models/minilm-cpu")
        .containsEntry("SHADOW_FRACTION", "0.25")
        .containsEntry("MANAGEMENT_PORT", "8082")
        .containsEntry("GRPC_PORT", "8081");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
    assertThat(c.getPorts())
        .extracting(p -> p.getName() + ":" + p.getContainerPort())
        .containsExactly("http:8080", "grpc:8081", "management:8082");
    assertThat(c.getReadinessProbe().getTimeoutSeconds()).isEqualTo(2);
    assertThat(c.getVolumeMounts())
        .extracting(m -> m.getMountPath())
        .contains("/mnt/artifacts", "/mnt/models", "/tmp");
    // A serving pod writes nothing to a claim: a compromised pod cannot replace a gated engine.
    assertThat(c.getVolumeMounts())
        .filteredOn(m -> m.getMountPath().startsWith("/mnt/"))
        .allSatisfy(m -> assertThat(m.getReadOnly()).isTrue());
    assertThat(d.getSpec().getTemplate().getSpec().getInitContainers()).isEmpty();
    assertThat(c.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
  }

  @Test
  void aClassifiersAndARankersCanaryAgreeByTheirTaskAndAnEmbeddingsPodsAreAsBefore() {
    SparseModel classifier =
        Fixtures.minilm(spec -> spec.with("source").put("task", "classification"));
    SparseModel ranker = Fixtures.minilm(spec -> spec.with("source").put("task", "ranking"));
    SparseModel embedding = Fixtures.minilm();
    SparseModel rawOutputs = Fixtures.minilm(spec -> spec.with("source").put("task", "tensor"));
    for (SparseModel model : java.util.List.of(classifier, ranker, embedding, rawOutputs)) {
      ServedModel canary =
          ServedModel.revision(model, REV, null)
              .mirroringTo(ServingResources.baselineUrl(model, 8080), 0.25);
      var env =
          env(
              ServingResources.deployment(model, canary, 1, SETTINGS)
                  .getSpec()
                  .getTemplate()
                  .getSpec()
                  .getContainers()
                  .get(0));
      if (model == classifier) {
        assertThat(env).containsEntry("SHADOW_METRIC", "top1");
      } else if (model == ranker) {
        // A request is one query's documents: it agrees when the same document comes first.
        assertThat(env).containsEntry("SHADOW_METRIC", "top1-document");
      } else {
        // Embeddings and raw outputs: the pod's default, the cosine of each output's rows.
        assertThat(env).doesNotContainKey("SHADOW_METRIC");
      }
    }
  }

  @Test
  void theBaselineServesTheDenseModelOnCpuAndTakesNoClientTraffic() {
    SparseModel model = Fixtures.minilm();
    Deployment d =
        ServingResources.deployment(
            model, ServedModel.dense(model, ServedModel.BASELINE), 1, SETTINGS);
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(ServingResources.TRAFFIC_LABEL, "false");
    assertThat(env(d.getSpec().getTemplate().getSpec().getContainers().get(0)))
        .containsEntry("MODEL_PATH", "/mnt/models/all-minilm-l6-v2/model.onnx")
        .doesNotContainKey("SHADOW_BASELINE_URL");
    assertThat(ServingResources.trafficService(model, SETTINGS).getSpec().getSelector())
        .containsEntry(ServingResources.TRAFFIC_LABEL, "true");
    assertThat(ServingResources.baselineService(model, SETTINGS).getSpec().getSelector())
        .containsEntry("sparserollout.io/revision", "baseline");
  }

  @Test
  void plansBuiltOnSeveralGpuProductsAreAllFetchedAndThePodsGoToAnyOfTheProducts() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("engine").put("backend", "tensorrt");
              s.with("artifactStore")
                  .put("uri", "s3://models/sparserollout")
                  .put("credentialsSecret", "s3");
            });
    String l4Plan = "s3://models/sparserollout/ml/minilm-cpu/r/engine/gpu/NVIDIA-L4/model.plan";
    ServedModel served =
        ServedModel.revision(model, REV, "NVIDIA-A100-SXM4-80GB")
            .withSha256("sha256:a")
            .alsoOn(List.of(new ServedModel.OtherPlan("NVIDIA-L4", l4Plan, "sha256:l")));
    var pod =
        ServingResources.deployment(model, served, 1, SETTINGS).getSpec().getTemplate().getSpec();

    assertThat(pod.getNodeSelector()).doesNotContainKey("nvidia.com/gpu.product");
    assertThat(
            pod.getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms())
        .allSatisfy(
            term ->
                assertThat(term.getMatchExpressions().get(0).getValues())
                    .containsExactly("NVIDIA-A100-SXM4-80GB", "NVIDIA-L4"));
    assertThat(pod.getInitContainers())
        .extracting(c -> c.getName() + " " + String.join(" ", c.getArgs()))
        .containsExactly(
            "fetch-model fetch --from " + served.uri() + " --out /models/model.plan",
            "fetch-model-1 fetch --from " + l4Plan + " --out /models/gpu-1/model.plan");
    assertThat(env(pod.getContainers().get(0)))
        .containsEntry("MODEL_PATH", "/models/model.plan")
        .containsEntry("MODEL_SHA256", "sha256:a")
        .containsEntry(
            "OTHER_PLANS", "[{\"path\":\"/models/gpu-1/model.plan\",\"sha256\":\"sha256:l\"}]");
    // What the Deployment records reads back as the same served model.
    assertThat(ServedModel.fromIdentity(REV, served.identity())).contains(served);
    // One product, and a model on CPU, are as before.
    assertThat(
            ServedModel.revision(model, REV, "NVIDIA-A100-SXM4-80GB").alsoOn(List.of()).identity())
        .doesNotContain("alsoOn");
  }

  @Test
  void aTensorRtPlanWithNoProductOnRecordStillGoesToAGpuNodeNotToAnyNode() {
    SparseModel model = Fixtures.minilm(s -> s.with("engine").put("backend", "tensorrt"));
    var pod =
        ServingResources.deployment(model, ServedModel.revision(model, REV, null), 1, SETTINGS)
            .getSpec()
            .getTemplate()
            .getSpec();
    assertThat(pod.getNodeSelector()).doesNotContainKey("nvidia.com/gpu.product");
    assertThat(pod.getContainers().get(0).getResources().getLimits()).containsKey("nvidia.com/gpu");
    assertThat(pod.getTolerations()).anyMatch(t -> "nvidia.com/gpu".equals(t.getKey()));
    // Recorded on the Deployment and read back, it stays a GPU placement.
    ServedModel served = ServedModel.revision(model, REV, null);
    assertThat(ServedModel.fromIdentity(REV, served.identity()).orElseThrow().placement())
        .isEqualTo(served.placement());
  }

  @Test
  void aTensorRtPlanInS3IsFetchedFirstAndServedOnTheGpuProductItWasBuiltOn() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("engine").put("backend", "tensorrt");
              s.with("artifactStore")
                  .put("uri", "s3://models/sparserollout")
                  .put("credentialsSecret", "s3");
            });
    Deployment d =
        ServingResources.deployment(
            model, ServedModel.revision(model, REV, "NVIDIA-A100-SXM4-80GB"), 1, SETTINGS);
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getNodeSelector())
        .containsEntry("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB");
    // Nor on one of its nodes whose driver is too old for the plan's CUDA.
    assertThat(
            pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution())
        .isNotNull();
    assertThat(pod.getContainers().get(0).getResources().getLimits()).containsKey("nvidia.com/gpu");
    assertThat(env(pod.getContainers().get(0)))
        .containsEntry("MODEL_PATH", "/models/model.plan")
        .containsEntry("BACKEND", "tensorrt")
        // The plan's profile: more rows or tokens than it was built for are the client's 400.
        .containsEntry("MAX_BATCH_SIZE", "32")
        .containsEntry("MAX_DIMENSION", "128")
        // And fewer than its minimum: a 400 too, not a failed run counted against the canary.
        .containsEntry("MIN_BATCH_SIZE", "1")
        .containsEntry("MIN_DIMENSION", "1");
    Container fetch = pod.getInitContainers().get(0);
    assertThat(fetch.getArgs())
        .containsExactly(
            "fetch",
            "--from",
            "s3://models/sparserollout/ml/minilm-cpu/" + REV + "/engine/model.plan",
            "--out",
            "/models/model.plan");
    assertThat(fetch.getEnv()).extracting(EnvVar::getName).contains("AWS_ACCESS_KEY_ID");
  }

  @Test
  void theHttpRouteSplitsEveryRequestByWeightWithTheCrdDefaultsWrittenOut() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("rollout").put("trafficMode", "gateway-api");
              s.with("rollout").with("gateway").put("name", "inference");
              s.with("rollout").with("gateway").putArray("hostnames").add("models.example.com");
            });
    var route =
        TrafficRoutes.httpRoute(
            model, new java.util.LinkedHashMap<>(Map.of("dense", 90)), SETTINGS);
    assertThat(route.getMetadata().getName()).isEqualTo("minilm-cpu");
    assertThat(route.getAdditionalProperties().get("spec"))
        .isEqualTo(
            Map.of(
                "parentRefs",
                java.util.List.of(
                    Map.of(
                        "group",
                        "gateway.networking.k8s.io",
                        "kind",
                        "Gateway",
                        "name",
                        "inference")),
                "hostnames",
                java.util.List.of("models.example.com"),
                "rules",
                java.util.List.of(
                    Map.of(
                        "matches",
                        java.util.List.of(
                            Map.of(
                                "path",
                                Map.of("type", "PathPrefix", "value", "/v2/models/minilm-cpu"))),
                        "backendRefs",
                        java.util.List.of(
                            Map.of(
                                "group",
                                "",
                                "kind",
                                "Service",
                                "name",
                                "minilm-cpu-dense",
                                "port",
                                8080,
                                "weight",
                                90))))));
    assertThat(
            ServingResources.servedModelService(model, "dense", SETTINGS).getSpec().getSelector())
        .containsEntry("sparserollout.io/revision", "dense")
        .doesNotContainKey("app.kubernetes.io/managed-by");
    // Every served model's Service also carries the gRPC port, as cleartext HTTP/2.
    assertThat(ServingResources.servedModelService(model, "dense", SETTINGS).getSpec().getPorts())
        .extracting(p -> p.getName() + ":" + p.getPort() + ":" + p.getAppProtocol())
        .containsExactly("http:8080:null", "grpc:8081:kubernetes.io/h2c");
  }

  @Test
  void eachServedModelHasADisruptionBudgetOverItsOwnPodsAllowingOneEvictionAtATime() {
    SparseModel model = Fixtures.minilm(s -> {});

    var budget = ServingResources.disruptionBudget(model, "b3966cbec2", "policy/v1beta1");

    assertThat(budget.getApiVersion()).isEqualTo("policy/v1beta1");
    assertThat(budget.getMetadata().getName()).isEqualTo("minilm-cpu-b3966cbec2");
    assertThat(budget.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getController()).isTrue());
    assertThat(budget.getAdditionalProperties().get("spec"))
        .isEqualTo(
            Map.of(
                "maxUnavailable",
                1,
                "selector",
                Map.of(
                    "matchLabels",
                    ServingResources.servedModelService(model, "b3966cbec2", SETTINGS)
                        .getSpec()
                        .getSelector())));
  }

  @Test
  void theGrpcRouteSplitsTheInferenceServiceAsTheHttpRouteOnItsOwnListener() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("rollout").put("trafficMode", "gateway-api");
              s.with("rollout").with("gateway").put("name", "inference");
              s.with("rollout").with("gateway").put("grpcSectionName", "grpc");
              s.with("rollout").with("gateway").putArray("hostnames").add("models.example.com");
            });
    var weights = new java.util.LinkedHashMap<>(Map.of("dense", 75));
    weights.put("b3966cbec2", 25);

    var route = TrafficRoutes.route(TrafficRoutes.Kind.GRPC, model, weights, SETTINGS);

    assertThat(route.getKind()).isEqualTo("GRPCRoute");
    assertThat(route.getMetadata().getName()).isEqualTo("minilm-cpu");
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) route.getAdditionalProperties().get("spec");
    Map<String, Object> http = TrafficRoutes.spec(model, weights, SETTINGS);
    assertThat(spec.get("parentRefs"))
        .isEqualTo(
            java.util.List.of(
                Map.of(
                    "group", "gateway.networking.k8s.io",
                    "kind", "Gateway",
                    "name", "inference",
                    "sectionName", "grpc")));
    assertThat(http.get("parentRefs").toString()).doesNotContain("sectionName");
    assertThat(spec.get("hostnames")).isEqualTo(java.util.List.of("models.example.com"));
    assertThat(spec.get("rules"))
        .isEqualTo(
            java.util.List.of(
                Map.of(
                    "matches",
                    java.util.List.of(
                        Map.of(
                            "method",
                            Map.of("type", "Exact", "service", "inference.GRPCInferenceService"))),
                    "backendRefs",
                    java.util.List.of(
                        Map.of(
                            "group",
                            "",
                            "kind",
                            "Service",
                            "name",
                            "minilm-cpu-dense",
                            "port",
                            8081,
                            "weight",
                            75),
                        Map.of(
                            "group",
                            "",
                            "kind",
                            "Service",
                            "name",
                            "minilm-cpu-b3966cbec2",
                            "port",
                            8081,
                            "weight",
                            25)))));
  }

  @Test
  void onlyAPodFetchingFromS3RunsAsTheStoresServiceAccountAndItsServerGetsNoCredentials() {
    SparseModel s3 =
        Fixtures.minilm(
            s ->
                s.with("artifactStore")
                    .put("uri", "s3://ml-artifacts/sparse")
                    .put("serviceAccountName", "store-reader"));
    var fetching =
        ServingResources.deployment(s3, ServedModel.revision(s3, REV, null), 1, SETTINGS)
            .getSpec()
            .getTemplate();
    SparseModel onPvc = Fixtures.minilm();
    var mounted =
        ServingResources.deployment(onPvc, ServedModel.revision(onPvc, REV, null), 1, SETTINGS)
            .getSpec()
            .getTemplate();

    assertThat(fetching.getSpec().getServiceAccountName()).isEqualTo("store-reader");
    assertThat(fetching.getSpec().getInitContainers())
        .extracting(c -> c.getName())
        .contains("fetch-model");
    assertThat(fetching.getMetadata().getAnnotations())
        .containsEntry("eks.amazonaws.com/skip-containers", "inference");
    assertThat(mounted.getSpec().getServiceAccountName()).isNull();
    assertThat(mounted.getMetadata().getAnnotations())
        .doesNotContainKey("eks.amazonaws.com/skip-containers");
  }

  @Test
  void theServingPortCannotBeTheProbesPortOrTheGrpcPortNorAPodReadyPastTheDeadline() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new ServingSettings("i", "s", ServingResources.MANAGEMENT_PORT))
        .hasMessageContaining("the inference pod answers its probes there");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new ServingSettings("i", "s", ServingResources.GRPC_PORT))
        .hasMessageContaining("the inference pod serves gRPC there");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new ServingSettings("i", "s", 8080, 600))
        .hasMessageContaining("min-ready-seconds must be 0 to 599");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new ServingSettings("i", "s", 8080, -1))
        .hasMessageContaining("min-ready-seconds must be 0 to 599");
  }

  @Test
  void captureWritesOnlyToTheModelsOwnFolderAndOnlyFromThePodsClientsReach() {
    // As the API server defaults the block.
    SparseModel capturing =
        Fixtures.minilm(
            s ->
                s.with("rollout")
                    .with("capture")
                    .put("enabled", true)
                    .put("fraction", 0.01)
                    .put("maxPerHour", 1000)
                    .put("maxTotal", 10000)
                    .put("retention", "24h"));
    Deployment serving =
        ServingResources.deployment(
            capturing, ServedModel.revision(capturing, REV, null), 1, SETTINGS);
    var pod = serving.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);

    assertThat(container.getVolumeMounts())
        .filteredOn(m -> !Boolean.TRUE.equals(m.getReadOnly()))
        .extracting(m -> m.getMountPath() + " " + m.getSubPath())
        .containsExactlyInAnyOrder(
            "/tmp null",
            "/capture sparserollout/"
                + capturing.getMetadata().getNamespace()
                + "/minilm-cpu/captured");
    assertThat(env(container))
        .containsEntry("CAPTURE_DIR", "/capture")
        .containsEntry("CAPTURE_ENABLED", "true")
        .containsEntry("CAPTURE_FRACTION", "0.01")
        .containsEntry("CAPTURE_MAX_PER_HOUR", "1000")
        .containsEntry("CAPTURE_MAX_TOTAL", "10000")
        .containsEntry("CAPTURE_RETENTION", "86400s");

    // The folder is made as the pods' user first, by a fixed command that alone sees the store
    // writable.
    assertThat(pod.getInitContainers())
        .singleElement()
        .satisfies(
            init -> {
              assertThat(init.getCommand())
                  .containsExactly("mkdir", "-p", "/model-folder/captured");
              assertThat(init.getVolumeMounts())
                  .singleElement()
                  .satisfies(
                      m ->
                          assertThat(m.getSubPath())
                              .isEqualTo(
                                  "sparserollout/"
                                      + capturing.getMetadata().getNamespace()
                                      + "/minilm-cpu"));
            });
    // Every mount is as the API server stores it (no false readOnly it would drop), so the drift
    // check finds the applied Deployment equal to the next desired one.
    assertThat(pod.getContainers().get(0).getVolumeMounts())
        .noneMatch(m -> Boolean.FALSE.equals(m.getReadOnly()));

    // The baseline sees only copies of requests: it captures nothing.
    var baseline =
        ServingResources.deployment(
                capturing, ServedModel.dense(capturing, ServedModel.BASELINE), 1, SETTINGS)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    assertThat(env(baseline)).doesNotContainKey("CAPTURE_DIR");
    assertThat(baseline.getVolumeMounts()).noneMatch(m -> m.getSubPath() != null);

    // Without the block, no pod gets a writable folder of the store or capture settings.
    SparseModel plain = Fixtures.minilm();
    var plainContainer =
        ServingResources.deployment(plain, ServedModel.revision(plain, REV, null), 1, SETTINGS)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    assertThat(env(plainContainer).keySet()).noneMatch(k -> k.startsWith("CAPTURE_"));
    assertThat(plainContainer.getVolumeMounts())
        .filteredOn(m -> !Boolean.TRUE.equals(m.getReadOnly()))
        .extracting(m -> m.getMountPath())
        .containsExactly("/tmp");
  }
}
