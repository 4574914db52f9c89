package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.sparserollout.api.v1alpha1.AutoscalingSpec;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.stage.ServingMetrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The HorizontalPodAutoscaler of a served model, as a pure function of the spec. It scales the
 * SparseModel through its scale subresource, not a Deployment: the rollout then splits the replicas
 * between the stable and the canary by weight and within the pod budget, so an HPA never fights the
 * canary's share (two HPAs, one per Deployment, would each follow their own pods' load and drift
 * from the weight in the replicas traffic mode, and could together pass maxExtraReplicas).
 */
public final class Autoscaler {
  public static final String KIND = "HorizontalPodAutoscaler";

  private Autoscaler() {}

  /**
   * @param apiVersion autoscaling/v2, or autoscaling/v2beta2 where the server has no v2 (before
   *     1.23); both take this spec as it is
   */
  public static GenericKubernetesResource desired(SparseModel model, String apiVersion) {
    AutoscalingSpec scaling = model.getSpec().rollout().autoscaling();
    Map<String, Object> target = new LinkedHashMap<>();
    target.put("apiVersion", SparseModel.GROUP + "/" + SparseModel.VERSION);
    target.put("kind", "SparseModel");
    target.put("name", model.getMetadata().getName());
    List<Map<String, Object>> metrics = new ArrayList<>();
    if (scaling.cpuTarget() != null) {
      metrics.add(
          Map.of(
              "type",
              "Resource",
              "resource",
              Map.of(
                  "name",
                  "cpu",
                  "target",
                  Map.of("type", "Utilization", "averageUtilization", scaling.cpuTarget()))));
    }
    if (scaling.targetInFlightRequests() != null) {
      metrics.add(
          Map.of(
              "type",
              "Pods",
              "pods",
              Map.of(
                  "metric",
                  Map.of("name", ServingMetrics.IN_FLIGHT),
                  "target",
                  Map.of(
                      "type",
                      "AverageValue",
                      "averageValue",
                      String.valueOf(scaling.targetInFlightRequests())))));
    }
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("scaleTargetRef", target);
    spec.put("minReplicas", scaling.fewest());
    spec.put("maxReplicas", scaling.maxReplicas());
    spec.put("metrics", metrics);
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(StageJobs.MANAGED_BY, StageJobs.OPERATOR);
    labels.put(StageJobs.MODEL_LABEL, model.getMetadata().getName());
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(apiVersion)
        .withKind(KIND)
        .withNewMetadata()
        .withName(model.getMetadata().getName())
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  /**
   * The pods the HPA averages over, as the scale subresource reports them: those that take client
   * traffic (the stable's and the canary's), not the dense baseline, which only answers mirrors.
   */
  public static String podSelector(SparseModel model) {
    return ServingResources.trafficSelector(model).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }
}
