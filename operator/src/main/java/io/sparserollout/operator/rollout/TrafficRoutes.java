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
 * SparseModel, whose backend weights are the split; beside it a GRPCRoute with the same weights
 * where the cluster has that CRD. Fields the Gateway API CRDs default are written out, so a route
 * read back equals the desired one and unchanged routes are not patched.
 */
public final class TrafficRoutes {
  public static final String CRD = "httproutes.gateway.networking.k8s.io";
  public static final String GRPC_CRD = "grpcroutes.gateway.networking.k8s.io";
  public static final String API_VERSION = "gateway.networking.k8s.io/v1";

  /** The OIP v2 gRPC service: every model's calls name it (the model is in the message). */
  public static final String GRPC_SERVICE = "inference.GRPCInferenceService";

  /** The two route kinds, each with its CRD. */
  public enum Kind {
    HTTP("HTTPRoute", CRD),
    GRPC("GRPCRoute", GRPC_CRD);

    public final String kind;
    public final String crd;

    Kind(String kind, String crd) {
      this.kind = kind;
      this.crd = crd;
    }
  }

  private TrafficRoutes() {}

  public static GenericKubernetesResource httpRoute(
      SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    return route(Kind.HTTP, model, weights, settings);
  }

  public static GenericKubernetesResource route(
      Kind kind, SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION)
        .withKind(kind.kind)
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
        .withAdditionalProperties(
            Map.of(
                "spec",
                kind == Kind.HTTP
                    ? spec(model, weights, settings)
                    : grpcSpec(model, weights, settings)))
        .build();
  }

  /**
   * The route's spec: the model's own requests ({@code /v2/models/<name>} and below, on the spec's
   * host names) split across the served models by weight; nothing else the Gateway carries.
   */
  public static Map<String, Object> spec(
      SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    return spec(
        model,
        backends(model, weights, settings.port()),
        Map.of(
            "path",
            Map.of("type", "PathPrefix", "value", "/v2/models/" + model.getMetadata().getName())),
        model.getSpec().rollout().gateway().sectionName());
  }

  /**
   * The GRPCRoute's spec: calls to the OIP v2 service on the gRPC listener and the spec's host
   * names, split as the HTTPRoute. A gRPC call carries its model in the message, not the path, so
   * host names are what tells one model's gRPC traffic from another's on a shared listener.
   */
  public static Map<String, Object> grpcSpec(
      SparseModel model, Map<String, Integer> weights, ServingSettings settings) {
    return spec(
        model,
        backends(model, weights, ServingResources.GRPC_PORT),
        Map.of("method", Map.of("type", "Exact", "service", GRPC_SERVICE)),
        model.getSpec().rollout().gateway().grpcSectionName());
  }

  private static Map<String, Object> spec(
      SparseModel model,
      List<Map<String, Object>> backends,
      Map<String, Object> match,
      String sectionName) {
    GatewayRef gateway = model.getSpec().rollout().gateway();
    Map<String, Object> parent = new LinkedHashMap<>();
    parent.put("group", "gateway.networking.k8s.io");
    parent.put("kind", "Gateway");
    parent.put("name", gateway.name());
    if (gateway.namespace() != null) {
      parent.put("namespace", gateway.namespace());
    }
    if (sectionName != null) {
      parent.put("sectionName", sectionName);
    }
    Map<String, Object> rule = new LinkedHashMap<>();
    rule.put("matches", List.of(match));
    rule.put("backendRefs", backends);
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("parentRefs", List.of(parent));
    if (gateway.hostnames() != null && !gateway.hostnames().isEmpty()) {
      spec.put("hostnames", List.copyOf(gateway.hostnames()));
    }
    spec.put("rules", List.of(rule));
    return spec;
  }

  private static List<Map<String, Object>> backends(
      SparseModel model, Map<String, Integer> weights, int port) {
    List<Map<String, Object>> backends = new ArrayList<>();
    weights.forEach(
        (key, weight) -> {
          Map<String, Object> backend = new LinkedHashMap<>();
          backend.put("group", "");
          backend.put("kind", "Service");
          backend.put("name", ServingResources.name(model, key));
          backend.put("port", port);
          backend.put("weight", weight);
          backends.add(backend);
        });
    return backends;
  }
}
