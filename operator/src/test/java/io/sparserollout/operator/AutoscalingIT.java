package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.testing.Kubectl;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * spec.rollout.autoscaling on a real kube-apiserver and kube-controller-manager, its
 * horizontal-pod-autoscaler controller included: the operator owns an HPA whose target is the
 * SparseModel's scale subresource, the real HPA controller moves spec.rollout.replicas, and the
 * rollout serves that many. There is no metrics server, so the HPA moves the replicas only into its
 * bounds; within them it leaves them as they are, as it does whenever its metrics are unavailable.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class AutoscalingIT {
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
  void theRealHpaScalesTheModelThroughItsScaleSubresourceAndTheRolloutServesThatMany() {
    SparseModel model =
        ns.create(
            "minilm",
            spec -> {
              ObjectNode rollout = spec.with("rollout");
              rollout.put("replicas", 1).put("progressDeadline", "30s");
              rollout.with("resources").with("requests").put("cpu", "100m");
              rollout.with("autoscaling").put("minReplicas", 3).put("maxReplicas", 5);
              var steps = rollout.with("canary").putArray("steps");
              steps.addObject().put("weight", 50).put("pause", "2s");
              rollout.with("analysis").put("interval", "1s").put("failureLimit", 0);
            });
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    GenericKubernetesResource hpa =
        await().atMost(ROLLOUT).ignoreExceptions().until(this::hpa, h -> h != null);
    assertThat(spec(hpa).get("scaleTargetRef"))
        .isEqualTo(
            Map.of(
                "apiVersion",
                "sparserollout.io/v1alpha1",
                "kind",
                "SparseModel",
                "name",
                "minilm"));
    assertThat(hpa.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(model.getMetadata().getUid()));

    // replicas 1 is below the HPA's minimum: the HPA controller raises it to 3 through the scale
    // subresource, and the promoted model serves 3 pods.
    ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    await()
        .atMost(ROLLOUT)
        .untilAsserted(
            () -> {
              SparseModel current = ns.get(model);
              assertThat(current.getSpec().rollout().replicas()).isEqualTo(3);
              assertThat(replicas("minilm-" + revision)).isEqualTo(3);
              assertThat(current.getStatus().getRollout().replicas()).isEqualTo(3);
              assertThat(current.getStatus().getRollout().selector())
                  .isEqualTo(
                      "sparserollout.io/model=minilm,app.kubernetes.io/component=inference,"
                          + "sparserollout.io/traffic=true");
            });

    // The scale subresource is what `kubectl scale` uses too; within the HPA's bounds and without
    // metrics, the HPA leaves the new size alone.
    Kubectl kubectl = new Kubectl(RealApiServerResource.apiServer().kubeconfig());
    kubectl.ok("scale", "sparsemodel/minilm", "--replicas=4", "-n", ns.name());
    await()
        .atMost(ROLLOUT)
        .untilAsserted(() -> assertThat(replicas("minilm-" + revision)).isEqualTo(4));
    assertThat(kubectl.ok("get", "--raw", scalePath()))
        .contains("\"replicas\":4", "sparserollout.io/traffic=true");
    assertThat(replicas("minilm-baseline")).isEqualTo(1);

    // Autoscaling off: the operator deletes its HPA; replicas stay where they were.
    ns.admin()
        .resources(SparseModel.class)
        .inNamespace(ns.name())
        .withName("minilm")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"rollout\":{\"autoscaling\":null}}}");
    await().atMost(ROLLOUT).until(() -> hpa() == null);
    assertThat(replicas("minilm-" + revision)).isEqualTo(4);
  }

  @Test
  void anHpaOfTheModelsNameThatIsSomebodyElsesIsAConditionNotATakeoverAndTheRolloutGoesOn() {
    ns.admin()
        .genericKubernetesResources("autoscaling/v2beta2", "HorizontalPodAutoscaler")
        .inNamespace(ns.name())
        .resource(
            new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                .withApiVersion("autoscaling/v2beta2")
                .withKind("HorizontalPodAutoscaler")
                .withNewMetadata()
                .withName("minilm")
                .endMetadata()
                .withAdditionalProperties(
                    Map.of(
                        "spec",
                        Map.of(
                            "scaleTargetRef",
                            Map.of("apiVersion", "apps/v1", "kind", "Deployment", "name", "mine"),
                            "maxReplicas",
                            2)))
                .build())
        .create();
    SparseModel model =
        ns.create(
            "minilm",
            spec -> {
              ObjectNode rollout = spec.with("rollout");
              rollout.with("autoscaling").put("maxReplicas", 3).put("targetInFlightRequests", 4);
              rollout
                  .with("canary")
                  .putArray("steps")
                  .addObject()
                  .put("weight", 50)
                  .put("pause", "1s");
              rollout.with("analysis").put("interval", "1s");
            });
    ns.passPipeline(model, Revision.of(model.getSpec()));

    SparseModel promoted = ns.awaitPhase(model, Phase.PROMOTED, ROLLOUT);
    assertThat(promoted.getStatus().getRollout().stableRevision())
        .isEqualTo(Revision.of(model.getSpec()));
    ns.awaitReasons(model, "NameTaken");
    ns.awaitCondition(
        model,
        "ResourcesOwned",
        ROLLOUT,
        c -> {
          assertThat(c.status()).isEqualTo("False");
          assertThat(c.reason()).isEqualTo("NameTaken");
          assertThat(c.message()).contains("HorizontalPodAutoscaler minilm");
        });
    assertThat(spec(hpa()).get("scaleTargetRef"))
        .isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "Deployment", "name", "mine"));
  }

  private GenericKubernetesResource hpa() {
    return ns.admin()
        .genericKubernetesResources("autoscaling/v2beta2", "HorizontalPodAutoscaler")
        .inNamespace(ns.name())
        .withName("minilm")
        .get();
  }

  private String scalePath() {
    return "/apis/sparserollout.io/v1alpha1/namespaces/" + ns.name() + "/sparsemodels/minilm/scale";
  }

  private static Map<?, ?> spec(GenericKubernetesResource resource) {
    return (Map<?, ?>) resource.getAdditionalProperties().get("spec");
  }

  private Integer replicas(String name) {
    Deployment d = ns.admin().apps().deployments().inNamespace(ns.name()).withName(name).get();
    return d == null ? null : d.getSpec().getReplicas();
  }
}
