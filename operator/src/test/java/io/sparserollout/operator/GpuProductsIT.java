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
 * A cluster with three qualifying GPU products, on a real API server: the engine stage runs on each
 * (a TensorRT plan runs only on the product it was built on), records each result as it comes,
 * drops a product whose Job fails, and the serving pods may go to any product that has a plan, each
 * told where the plans lie.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class GpuProductsIT {
  private static final String H100 = "NVIDIA-H100-80GB-HBM3";
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
    List<String> nodes = List.of("h100-" + ns.name(), "l4-" + ns.name(), "a100-" + ns.name());
    GpuNodes.create(ns.admin(), nodes.get(0), H100, "9", "0");
    GpuNodes.create(ns.admin(), nodes.get(1), L4, "8", "9");
    GpuNodes.create(ns.admin(), nodes.get(2), A100, "8", "0");
    try {
      SparseModel model = ns.create("minilm", ArtifactReuseIT::tensorRtCanary);
      String revision = Revision.of(model.getSpec());
      ns.kubelet()
          .succeed(ns.name(), TestNamespace.job(model, revision, "prune"), StageResults.PRUNED);

      // The most capable product's Job is the stage's; it names the others, each with its own.
      Job first = ns.awaitJob(TestNamespace.job(model, revision, "engine"));
      Job l4 = ns.awaitJob(ProductEngines.jobName(model, revision, L4));
      Job a100 = ns.awaitJob(ProductEngines.jobName(model, revision, A100));
      assertThat(GpuPlacement.placedOn(first)).isEqualTo(H100);
      assertThat(GpuPlacement.placedOn(l4)).isEqualTo(L4);
      assertThat(GpuPlacement.placedOn(a100)).isEqualTo(A100);
      assertThat(ProductEngines.expected(first)).containsExactly(L4, A100);
      ns.awaitReasons(model, "StageStarted");

      // A product that reports before the first one is recorded at once too.
      ns.kubelet()
          .succeed(
              ns.name(),
              a100.getMetadata().getName(),
              StageResults.tensorRtEngine("NVIDIA A100-SXM4-80GB", "b".repeat(64)));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                var engine = ns.get(model).getStatus().getEngine();
                return engine != null
                    && !engine.built()
                    && engine.otherProducts().stream()
                        .anyMatch(e -> e.gpuProduct().equals(A100) && e.reported());
              });
      ns.kubelet()
          .succeed(
              ns.name(),
              first.getMetadata().getName(),
              StageResults.tensorRtEngine("NVIDIA H100 80GB HBM3", "a".repeat(64)));
      // Its result is recorded at once: its pod may go (a GPU node scaled down) long before the
      // other products are built, and the stage does not fail for it. One product done is not
      // the stage done.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ns.get(model).getStatus().getEngine().built());
      Job done =
          ns.admin()
              .batch()
              .v1()
              .jobs()
              .inNamespace(ns.name())
              .withName(first.getMetadata().getName())
              .get();
      done.getStatus()
          .setCompletionTime(
              java.time.Instant.now().minusSeconds(3600).toString().replaceAll("\\.\\d+Z$", "Z"));
      ns.admin().batch().v1().jobs().inNamespace(ns.name()).resource(done).updateStatus();
      ns.admin()
          .pods()
          .inNamespace(ns.name())
          .withLabel("job-name", first.getMetadata().getName())
          .withGracePeriod(0)
          .delete();
      // A product whose Job fails serves nothing; the others serve on.
      ns.kubelet().fail(ns.name(), l4.getMetadata().getName(), "CUDA out of memory");
      ns.kubelet().fail(ns.name(), l4.getMetadata().getName(), "CUDA out of memory");
      // The job controller marks the Job Failed after its retry backoff (about 10 s).
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> ns.reasons(model).contains("EngineFailedOnProduct"));
      // Every product reported: the stage is done.
      ns.kubelet()
          .succeed(
              ns.name(),
              TestNamespace.job(model, revision, "evaluate"),
              StageResults.EVALUATED_GOOD);
      SparseModel promoted = ns.awaitPhase(model, Phase.PROMOTED, Duration.ofSeconds(90));

      assertThat(promoted.getStatus().getEngine().gpuProduct()).isEqualTo(H100);
      assertThat(promoted.getStatus().getEngine().sha256()).isEqualTo("a".repeat(64));
      List<ProductEngine> others = promoted.getStatus().getEngine().otherProducts();
      assertThat(others).extracting(ProductEngine::gpuProduct).containsExactlyInAnyOrder(L4, A100);
      assertThat(others)
          .filteredOn(e -> e.gpuProduct().equals(L4))
          .singleElement()
          .satisfies(e -> assertThat(e.failure()).contains("CUDA out of memory"));
      ProductEngine built =
          others.stream().filter(e -> e.gpuProduct().equals(A100)).findFirst().orElseThrow();
      assertThat(built.sha256()).isEqualTo("b".repeat(64));
      assertThat(built.artifactUri()).endsWith("/engine/gpu/" + A100);
      assertThat(RolloutIT.plugin("report", "minilm", "-n", ns.name()).output())
          .contains("also built on")
          .contains("  " + A100 + ": " + built.artifactUri());
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
          .containsExactly(H100, A100);
      assertThat(pod.getContainers().get(0).getEnv())
          .extracting(EnvVar::getName, EnvVar::getValue)
          .contains(
              org.assertj.core.groups.Tuple.tuple("MODEL_SHA256", "a".repeat(64)),
              org.assertj.core.groups.Tuple.tuple(
                  "OTHER_PLANS",
                  "[{\"path\":\""
                      + built.artifactUri().replace("pvc://", "/mnt/")
                      + "/model.plan\",\"sha256\":\""
                      + "b".repeat(64)
                      + "\"}]"));
    } finally {
      nodes.forEach(node -> ns.admin().nodes().withName(node).delete());
    }
  }
}
