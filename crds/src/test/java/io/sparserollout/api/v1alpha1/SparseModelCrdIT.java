package io.sparserollout.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sparserollout.testing.Kubectl;
import io.sparserollout.testing.RealApiServer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed CRD, installed in a real kube-apiserver, accepts good input and rejects bad. */
class SparseModelCrdIT {
  private static final String NAMESPACE = "default";
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static RealApiServer apiServer;
  private static KubernetesClient client;

  @BeforeAll
  static void installCrd() {
    apiServer = RealApiServer.start();
    client = apiServer.client();
    File crdFile = new File(System.getProperty("crd.committed"));
    CustomResourceDefinition crd =
        client.apiextensions().v1().customResourceDefinitions().load(crdFile).item();
    client.resource(crd).create();
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(crd.getMetadata().getName())
        .waitUntilCondition(
            c ->
                // The first event may carry a status without conditions yet.
                c.getStatus() != null
                    && c.getStatus().getConditions() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            30,
            TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (apiServer != null) {
      apiServer.close();
    }
  }

  static Stream<Path> samples() throws Exception {
    return Files.list(Path.of(System.getProperty("samples.dir"))).sorted();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void shippedSamplesAreAccepted(Path sample) {
    SparseModel model = client.resources(SparseModel.class).load(sample.toFile()).item();
    SparseModel created = client.resource(model).inNamespace(NAMESPACE).create();
    assertThat(created.getSpec().source().uri()).isEqualTo(model.getSpec().source().uri());
    client.resource(created).delete();
  }

  @Test
  void schemaDefaultsFillAMinimalSpec() {
    SparseModel created =
        client.resources(SparseModel.class).resource(toTyped(minimal("defaults"))).create();
    SparseModelSpec spec = created.getSpec();

    assertThat(spec.sparsity().pattern()).isEqualTo(SparsitySpec.Pattern.TWO_FOUR);
    assertThat(spec.sparsity().method()).isEqualTo(SparsitySpec.Method.SPARSEGPT);
    assertThat(spec.sparsity().calibration().samples()).isEqualTo(128);
    assertThat(spec.quantization().mode()).isEqualTo(QuantizationSpec.Mode.NONE);
    assertThat(spec.quantization().percentile()).isEqualTo(99.99);
    assertThat(spec.fineTuning().distillation()).isTrue();
    assertThat(spec.engine().backend()).isEqualTo(EngineSpec.Backend.ONNXRUNTIME);
    assertThat(spec.engine().precision()).isEqualTo(EngineSpec.Precision.FP16);
    assertThat(spec.engine().gpu().minComputeCapability()).isEqualTo("8.0");
    assertThat(spec.engine().shapes().maxBatch()).isEqualTo(32);
    assertThat(spec.gate().metric()).isEqualTo(GateSpec.Metric.COSINE_FIDELITY);
    assertThat(spec.gate().maxDrop()).isEqualTo(0.05);
    assertThat(spec.gate().perSet()).isEqualTo(GateSpec.PerSet.ALL);
    assertThat(spec.evaluation().sets()).isNull();
    assertThat(spec.rollout().replicas()).isEqualTo(1);
    assertThat(spec.rollout().trafficMode()).isEqualTo(RolloutSpec.TrafficMode.REPLICAS);
    assertThat(spec.rollout().autoPromote()).isTrue();
    assertThat(spec.rollout().analysis().interval()).isEqualTo("30s");
    assertThat(spec.rollout().analysis().minAgreement()).isEqualTo(0.95);
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of(
            "unknown-precision",
            set("engine", Map.of("precision", "fp8")),
            "spec.engine.precision"),
        Arguments.of(
            "negative-replicas", set("rollout", Map.of("replicas", -1)), "spec.rollout.replicas"),
        Arguments.of(
            "canary-weight-over-100",
            set("rollout", Map.of("canary", Map.of("steps", List.of(Map.of("weight", 150))))),
            "spec.rollout.canary.steps.weight"),
        Arguments.of(
            "missing-source",
            (Consumer<Map<String, Object>>) s -> s.remove("source"),
            "spec.source"),
        Arguments.of(
            "pattern-not-2-4", set("sparsity", Map.of("pattern", "1:2")), "spec.sparsity.pattern"),
        Arguments.of(
            "source-uri-scheme",
            set("source", Map.of("uri", "ftp://x/model.onnx")),
            "spec.source.uri"),
        Arguments.of(
            "compute-capability-format",
            set("engine", Map.of("gpu", Map.of("minComputeCapability", "ampere"))),
            "spec.engine.gpu.minComputeCapability"),
        Arguments.of(
            "percentile-over-100",
            set("quantization", Map.of("percentile", 100.5)),
            "spec.quantization.percentile"),
        Arguments.of(
            "pause-not-a-duration",
            set(
                "rollout",
                Map.of("canary", Map.of("steps", List.of(Map.of("weight", 10, "pause", "soon"))))),
            "spec.rollout.canary.steps.pause"),
        Arguments.of(
            "five-evaluation-sets",
            set(
                "evaluation",
                Map.of(
                    "sets",
                    java.util.stream.IntStream.range(0, 5)
                        .mapToObj(i -> Map.of("name", "set-" + i))
                        .toList())),
            "spec.evaluation.sets"),
        Arguments.of(
            "evaluation-set-name-not-a-label",
            set("evaluation", Map.of("sets", List.of(Map.of("name", "Users File")))),
            "spec.evaluation.sets.name"),
        Arguments.of(
            "evaluation-set-without-name",
            set("evaluation", Map.of("sets", List.of(Map.of("dataUri", "pvc://m/e.txt")))),
            "spec.evaluation.sets.name"),
        Arguments.of(
            "per-set-neither-all-nor-mean",
            set("gate", Map.of("perSet", "median")),
            "spec.gate.perSet"),
        Arguments.of(
            "empty-interval",
            set("rollout", Map.of("analysis", Map.of("interval", ""))),
            "spec.rollout.analysis.interval"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedSpecIsRejectedNamingTheField(
      String name, Consumer<Map<String, Object>> breakSpec, String field) {
    GenericKubernetesResource resource = minimal(name);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) resource.getAdditionalProperties().get("spec");
    breakSpec.accept(spec);

    assertThatThrownBy(() -> client.resource(resource).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(field);
  }

  @Test
  void statusIsASubresourceTheSpecCannotOverwrite() {
    SparseModel created =
        client.resources(SparseModel.class).resource(toTyped(minimal("status"))).create();
    SparseModelStatus status = new SparseModelStatus();
    status.setPhase(Phase.PENDING);
    status.setObservedGeneration(created.getMetadata().getGeneration());
    created.setStatus(status);

    SparseModel patched = client.resource(created).updateStatus();

    assertThat(patched.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    assertThat(patched.getMetadata().getGeneration()).isEqualTo(1L);
  }

  @Test
  void kubectlExplainDescribesFields() throws Exception {
    Kubectl kubectl = new Kubectl(apiServer.kubeconfig());
    String out = "";
    // The API server publishes CRD schemas to OpenAPI a moment after the CRD is established.
    for (int attempt = 0; attempt < 30 && !out.contains("DESCRIPTION"); attempt++) {
      out = kubectl.run("explain", "sparsemodels.spec.engine.precision").output();
      if (!out.contains("DESCRIPTION")) {
        Thread.sleep(1000);
      }
    }
    assertThat(out).contains("FIELD:    precision").contains("Q/DQ");
  }

  private static Consumer<Map<String, Object>> set(String key, Map<String, Object> value) {
    return spec -> spec.put(key, value);
  }

  private static GenericKubernetesResource minimal(String name) {
    String yaml =
        """
        apiVersion: sparserollout.io/v1alpha1
        kind: SparseModel
        metadata:
          name: %s
          namespace: %s
        spec:
          source:
            uri: pvc://models/minilm/model.onnx
          artifactStore:
            uri: pvc://models/artifacts
        """
            .formatted(name, NAMESPACE);
    return SERIALIZATION.unmarshal(yaml, GenericKubernetesResource.class);
  }

  private static SparseModel toTyped(GenericKubernetesResource resource) {
    return SERIALIZATION.convertValue(resource, SparseModel.class);
  }
}
