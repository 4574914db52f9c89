package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.stage.ServingMetrics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AutoscalerTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  @Test
  void theHpaScalesTheSparseModelNotADeploymentSoTheRolloutKeepsTheCanarysShare() {
    SparseModel model =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("autoscaling")
                    .put("minReplicas", 2)
                    .put("maxReplicas", 6));

    GenericKubernetesResource hpa = Autoscaler.desired(model, "autoscaling/v2beta2");

    assertThat(hpa.getApiVersion()).isEqualTo("autoscaling/v2beta2");
    assertThat(hpa.getMetadata().getName()).isEqualTo(model.getMetadata().getName());
    assertThat(hpa.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("SparseModel"));
    Map<?, ?> spec = spec(hpa);
    assertThat(spec.get("scaleTargetRef"))
        .isEqualTo(
            Map.of(
                "apiVersion",
                "sparserollout.io/v1alpha1",
                "kind",
                "SparseModel",
                "name",
                model.getMetadata().getName()));
    assertThat(spec.get("minReplicas")).isEqualTo(2);
    assertThat(spec.get("maxReplicas")).isEqualTo(6);
    // No target named: CPU at 70% of the request.
    assertThat(spec.get("metrics"))
        .isEqualTo(
            List.of(
                Map.of(
                    "type",
                    "Resource",
                    "resource",
                    Map.of(
                        "name",
                        "cpu",
                        "target",
                        Map.of("type", "Utilization", "averageUtilization", 70)))));
  }

  @Test
  void anInFlightTargetReadsThePodsOwnGaugeAndCpuIsLeftOutUnlessAskedFor() {
    SparseModel inFlight =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("autoscaling")
                    .put("maxReplicas", 4)
                    .put("targetInFlightRequests", 8));
    SparseModel both =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("autoscaling")
                    .put("maxReplicas", 4)
                    .put("targetInFlightRequests", 8)
                    .put("targetCpuUtilization", 50));

    Map<?, ?> onlyPods = spec(Autoscaler.desired(inFlight, "autoscaling/v2"));
    assertThat(onlyPods.get("minReplicas")).isEqualTo(1);
    assertThat(onlyPods.get("metrics"))
        .isEqualTo(
            List.of(
                Map.of(
                    "type",
                    "Pods",
                    "pods",
                    Map.of(
                        "metric",
                        Map.of("name", ServingMetrics.IN_FLIGHT),
                        "target",
                        Map.of("type", "AverageValue", "averageValue", "8")))));
    assertThat((List<?>) spec(Autoscaler.desired(both, "autoscaling/v2")).get("metrics"))
        .hasSize(2);
  }

  @Test
  void theScaleSelectorMatchesTheTrafficServiceNotTheBaseline() {
    SparseModel model = Fixtures.minilm();
    String selector = Autoscaler.podSelector(model);

    Map<String, String> traffic =
        ServingResources.trafficService(model, new ServingSettings("i", "s", 8080))
            .getSpec()
            .getSelector();
    assertThat(selector.split(","))
        .containsExactlyInAnyOrderElementsOf(
            traffic.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    assertThat(ServingResources.labels(model, ServedModel.BASELINE))
        .containsEntry(ServingResources.TRAFFIC_LABEL, "false");
  }

  private static Map<?, ?> spec(GenericKubernetesResource hpa) {
    // Through JSON, as the API server gets it.
    return (Map<?, ?>) JSON.unmarshal(JSON.asJson(hpa), Map.class).get("spec");
  }
}
