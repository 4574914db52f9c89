package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.ProductEngine;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.ProductEngines;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.placement.GpuPlacement;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * A cluster with two qualifying GPU products, on a real API server: the engine stage runs on each
 * (a TensorRT plan runs only on the product it was built on), is done when both are, and the
 * serving pods may go to either product, each told where both plans lie.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class GpuProductsIT {
  private static final String L4 = "NVIDIA-L4";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";

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
  void anEngineIsBuiltOnEachGpuProductAndThePodsServeOnEitherWithTheirOwnPlan() {
    List<String> nodes = List.of("l4-" + ns.name(), "a100-" + ns.name());
    GpuNodes.create(ns.admin(), nodes.get(0), L4, "8", "9");
    GpuNodes.create(ns.admin(), nodes.get(1), A100, "8", "0");
    try {
      SparseModel model = ns.create("minilm", ArtifactReuseIT::tensorRtCanary);
      String revision = Revision.of(model.getSpec());
      ns.kubelet()
          .succeed(ns.name(), TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

      // The most capable product's Job is the stage's; it names the other, which has its own.
      Job first = ns.awaitJob(TestNamespace.job(model, revision, "engine"));
      Job other = ns.awaitJob(ProductEngines.jobName(model, revision, A100));
      assertThat(GpuPlacement.placedOn(first)).isEqualTo(L4);
      assertThat(GpuPlacement.placedOn(other)).isEqualTo(A100);
      assertThat(ProductEngines.expected(first)).containsExactly(A100);
      ns.awaitReasons(model, "StageStarted");

      ns.kubelet()
          .succeed(
              ns.name(),
              first.getMetadata().getName(),
              StageResults.tensorRtEngine("NVIDIA L4", "a".repeat(64)));
      // One product done is not the stage done.
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> ns.get(model).getStatus().getPhase() == Phase.BUILDING_ENGINE);
      ns.kubelet()
          .succeed(
              ns.name(),
              other.getMetadata().getName(),
              StageResults.tensorRtEngine("NVIDIA A100-SXM4-80GB", "b".repeat(64)));
      ns.kubelet()
          .succeed(
              ns.name(),
              TestNamespace.job(model, revision, "evaluate"),
              StageResults.EVALUATED_GOOD);
      SparseModel promoted = ns.awaitPhase(model, Phase.PROMOTED, Duration.ofSeconds(90));

      assertThat(promoted.getStatus().getEngine().gpuProduct()).isEqualTo(L4);
      ProductEngine a100 = promoted.getStatus().getEngine().otherProducts().get(0);
      assertThat(a100.gpuProduct()).isEqualTo(A100);
      assertThat(a100.sha256()).isEqualTo("b".repeat(64));
      assertThat(a100.artifactUri()).endsWith("/engine/gpu/" + A100);
      assertThat(RolloutIT.plugin("report", "minilm", "-n", ns.name()).output())
          .contains("also built on")
          .contains("  " + A100 + ": " + a100.artifactUri());
      PodSpec pod =
          ns.admin()
              .apps()
              .deployments()
              .inNamespace(ns.name())
              .withName("minilm-" + revision)
              .get()
              .getSpec()
              .getTemplate()
              .getSpec();
      assertThat(pod.getNodeSelector()).doesNotContainKey(GpuPlacement.PRODUCT);
      assertThat(
              pod.getAffinity()
                  .getNodeAffinity()
                  .getRequiredDuringSchedulingIgnoredDuringExecution()
                  .getNodeSelectorTerms()
                  .get(0)
                  .getMatchExpressions()
                  .get(0)
                  .getValues())
          .containsExactly(L4, A100);
      assertThat(pod.getContainers().get(0).getEnv())
          .extracting(EnvVar::getName, EnvVar::getValue)
          .contains(
              org.assertj.core.groups.Tuple.tuple("MODEL_SHA256", "a".repeat(64)),
              org.assertj.core.groups.Tuple.tuple(
                  "OTHER_PLANS",
                  "[{\"path\":\""
                      + a100.artifactUri().replace("pvc://", "/mnt/")
                      + "/model.plan\",\"sha256\":\""
                      + "b".repeat(64)
                      + "\"}]"));
    } finally {
      nodes.forEach(node -> ns.admin().nodes().withName(node).delete());
    }
  }
}
