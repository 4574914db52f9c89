package io.sparserollout.operator.placement;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.sparserollout.api.v1alpha1.EngineSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads what GPU placement needs from the cluster: nodes and the GPU Operator's readiness. */
public final class GpuInventory {
  /** The NVIDIA GPU Operator's cluster-scoped ClusterPolicy (nvidia.com/v1). */
  private static final ResourceDefinitionContext CLUSTER_POLICY =
      new ResourceDefinitionContext.Builder()
          .withGroup("nvidia.com")
          .withVersion("v1")
          .withKind("ClusterPolicy")
          .withPlural("clusterpolicies")
          .withNamespaced(false)
          .build();

  private GpuInventory() {}

  /** Where the engine stage runs; the cluster is asked only when the backend needs a GPU. */
  public static GpuPlacement.Decision decide(KubernetesClient client, EngineSpec engine) {
    if (engine.backend() != EngineSpec.Backend.TENSORRT) {
      return new GpuPlacement.OnCpu();
    }
    return GpuPlacement.decide(
        engine, client.nodes().list().getItems(), clusterPolicyState(client));
  }

  /** Every GPU product the engine is built for ({@link GpuPlacement#everyProduct}). */
  public static List<GpuPlacement.OnGpu> everyProduct(KubernetesClient client, EngineSpec engine) {
    if (engine.backend() != EngineSpec.Backend.TENSORRT) {
      return List.of();
    }
    return GpuPlacement.everyProduct(
        engine, client.nodes().list().getItems(), clusterPolicyState(client));
  }

  private static Optional<String> clusterPolicyState(KubernetesClient client) {
    try {
      List<GenericKubernetesResource> policies =
          client.genericKubernetesResources(CLUSTER_POLICY).list().getItems();
      if (policies.isEmpty()) {
        return Optional.empty();
      }
      Object state =
          policies.get(0).getAdditionalProperties().get("status") instanceof Map<?, ?> s
              ? s.get("state")
              : null;
      return Optional.of(state == null ? "unknown" : state.toString());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return Optional.empty(); // the GPU Operator is not installed: rely on node labels alone
      }
      throw e;
    }
  }
}
