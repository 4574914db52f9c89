package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.placement.GpuPlacement;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Content-addressed artifacts on a real API server: a second SparseModel with the same model and
 * recipe (so the same revision and artifact key) runs no stage Job of its own; it takes the first
 * one's results, serves its engine file, and goes through its own canary.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class ArtifactReuseIT {
  private static final Duration ROLLOUT = Duration.ofSeconds(90);

  @ConfigProperty(name = "sparserollout.serving.port")
  int port;

  private TestNamespace ns;
  private FakeInferencePods pods;

  @BeforeEach
  void connect(TestInfo test) {
    ns = TestNamespace.forTest(test);
    pods = new FakeInferencePods(ns.admin(), ns.name(), port, revision -> RolloutIT.GOOD);
  }

  @AfterEach
  void disconnect() {
    pods.close();
    ns.close();
  }

  @Test
  void aSecondModelWithTheSameInputsRunsNoStageAndServesTheFirstOnesEngine() {
    SparseModel first = ns.create("minilm", ArtifactReuseIT::quickCanary);
    String revision = Revision.of(first.getSpec());
    ns.passPipeline(first, revision);
    SparseModel promoted = ns.awaitPhase(first, Phase.PROMOTED, ROLLOUT);
    String key = promoted.getStatus().getArtifactKey();
    assertThat(key).hasSize(32);

    SparseModel twin = ns.create("twin", ArtifactReuseIT::quickCanary);
    assertThat(Revision.of(twin.getSpec())).isEqualTo(revision);
    SparseModel served = ns.awaitPhase(twin, Phase.PROMOTED, ROLLOUT);

    assertThat(served.getStatus().getReusedFrom().model()).isEqualTo("minilm");
    assertThat(served.getStatus().getReusedFrom().key()).isEqualTo(key);
    assertThat(served.getStatus().getGate()).isEqualTo(promoted.getStatus().getGate());
    assertThat(served.getStatus().getEngine()).isEqualTo(promoted.getStatus().getEngine());
    assertThat(
            ns.admin()
                .batch()
                .v1()
                .jobs()
                .inNamespace(ns.name())
                .withLabel("sparserollout.io/model", "twin")
                .list()
                .getItems())
        .as("stage Jobs of the twin")
        .isEmpty();
    ns.awaitReasons(twin, "ArtifactsReused", "GatePassed", "Promoted");
    assertThat(RolloutIT.plugin("report", "twin", "-n", ns.name()).output())
        .contains("reused:      the results and artifacts of minilm (key " + key);
    assertThat(ns.reasons(twin)).doesNotContain("StageStarted");
    // The twin's pods load the engine file the first model's engine stage wrote, in that run's
    // own folder: the first model running this revision again would write beside it.
    String engine = promoted.getStatus().getEngine().artifactUri() + "/model.onnx";
    assertThat(engine)
        .contains("/minilm/" + revision + "/" + promoted.getStatus().getArtifactRun() + "/engine/");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              Deployment deployment =
                  ns.admin()
                      .apps()
                      .deployments()
                      .inNamespace(ns.name())
                      .withName("twin-" + revision)
                      .get();
              assertThat(deployment).isNotNull();
              assertThat(ns.admin().getKubernetesSerialization().asJson(deployment))
                  .contains(engine);
            });
  }

  @Test
  void aTensorRtEngineServesOnTheNodesOfItsGpuProductLabelAndATwinReusesIt() {
    // The stage reports the GPU by CUDA's name; nodes are selected by GPU Feature Discovery's.
    String label = "NVIDIA-A100-SXM4-80GB";
    String node = "gpu-" + ns.name();
    GpuNodes.create(ns.admin(), node, label, "8", "0");
    try {
      SparseModel first = ns.create("minilm", ArtifactReuseIT::tensorRtCanary);
      String revision = Revision.of(first.getSpec());
      ns.kubelet()
          .succeed(ns.name(), TestNamespace.job(first, revision, "prune"), StageResults.PRUNED);
      ns.kubelet()
          .succeed(
              ns.name(),
              TestNamespace.job(first, revision, "engine"),
              StageResults.tensorRtEngine("NVIDIA A100-SXM4-80GB", StageResults.ENGINE_SHA256));
      ns.kubelet()
          .succeed(
              ns.name(),
              TestNamespace.job(first, revision, "evaluate"),
              StageResults.EVALUATED_GOOD);
      SparseModel promoted = ns.awaitPhase(first, Phase.PROMOTED, ROLLOUT);
      assertThat(promoted.getStatus().getEngine().gpuProduct()).isEqualTo(label);
      assertThat(
              ns.admin()
                  .apps()
                  .deployments()
                  .inNamespace(ns.name())
                  .withName("minilm-" + revision)
                  .get()
                  .getSpec()
                  .getTemplate()
                  .getSpec()
                  .getNodeSelector())
          .containsEntry(GpuPlacement.PRODUCT, label);

      SparseModel twin = ns.create("twin", ArtifactReuseIT::tensorRtCanary);
      SparseModel served = ns.awaitPhase(twin, Phase.PROMOTED, ROLLOUT);
      assertThat(served.getStatus().getReusedFrom().model()).isEqualTo("minilm");
      assertThat(served.getStatus().getEngine()).isEqualTo(promoted.getStatus().getEngine());
    } finally {
      ns.admin().nodes().withName(node).delete();
    }
  }

  static void tensorRtCanary(com.fasterxml.jackson.databind.node.ObjectNode spec) {
    spec.with("engine").put("backend", "tensorrt");
    quickCanary(spec);
  }

  static void quickCanary(com.fasterxml.jackson.databind.node.ObjectNode spec) {
    var rollout = spec.with("rollout");
    rollout.put("replicas", 1).put("progressDeadline", "30s");
    rollout.with("canary").putArray("steps").addObject().put("weight", 50).put("pause", "1s");
    rollout.with("analysis").put("interval", "1s");
  }
}
