package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.sparserollout.api.v1alpha1.GatewayRef;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.StageJobs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway-api traffic split: a Service per served model and one HTTPRoute, named after the
 * SparseModel, whose backend weights are the split. Fields the Gateway API CRDs default are written
 * out, so the route read back equals the desired one and unchanged routes are not patched.
 */
public final class TrafficRoutes {
  public static final String CRD = "httproutes.gateway.networking.k8s.io";
  public static final String API_VERSION = "gateway.networking.k8s.io/v1";

  private TrafficRoutes() {}

  public static GenericKubernetesResource httpRoute(
      SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION)
        .withKind("HTTPRoute")
        .withNewMetadata()
        .withName(model.getMetadata().getName())
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(
            Map.of(
                StageJobs.MANAGED_BY,
                StageJobs.OPERATOR,
                StageJobs.MODEL_LABEL,
                model.getMetadata().getName()))
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec(model, weights, settings)))
        .build();
  }

  /**
   * The route's spec: the model's own requests ({@code /v2/models/<name>} and below, on the spec's
   * host names) split across the served models by weight; nothing else the Gateway carries.
   */
  public static Map<String, Object> spec(
      SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    GatewayRef gateway = model.getSpec().rollout().gateway();
    Map<String, Object> parent = new LinkedHashMap<>();
    parent.put("group", "gateway.networking.k8s.io");
    parent.put("kind", "Gateway");
    parent.put("name", gateway.name());
    if (gateway.namespace() != null) {
      parent.put("namespace", gateway.namespace());
    }
    if (gateway.sectionName() != null) {
      parent.put("sectionName", gateway.sectionName());
    }
    List<Map<String, Object>> backends = new ArrayList<>();
    weights.forEach(
        (key, weight) -> {
          Map<String, Object> backend = new LinkedHashMap<>();
          backend.put("group", "");
          backend.put("kind", "Service");
          backend.put("name", ServingResources.name(model, key));
          backend.put("port", settings.port());
          backend.put("weight", weight);
          backends.add(backend);
        });
    Map<String, Object> rule = new LinkedHashMap<>();
    rule.put(
        "matches",
        List.of(
            Map.of(
                "path",
                Map.of(
                    "type",
                    "PathPrefix",
                    "value",
                    "/v2/models/" + model.getMetadata().getName()))));
    rule.put("backendRefs", backends);
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("parentRefs", List.of(parent));
    if (gateway.hostnames() != null && !gateway.hostnames().isEmpty()) {
      spec.put("hostnames", List.copyOf(gateway.hostnames()));
    }
    spec.put("rules", List.of(rule));
    return spec;
  }
}
