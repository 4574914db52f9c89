package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.operator.placement.GpuPlacement;
import java.util.Map;

/** Node objects as GPU Feature Discovery and the device plugin leave them: labels and a GPU. */
final class GpuNodes {
  private GpuNodes() {}

  /** A node named {@code name} with one GPU of {@code product} (a label value). */
  static void create(
      KubernetesClient admin, String name, String product, String major, String minor) {
    admin
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(
                    Map.of(
                        GpuPlacement.PRODUCT,
                        product,
                        GpuPlacement.MAJOR,
                        major,
                        GpuPlacement.MINOR,
                        minor))
                .endMetadata()
                .build())
        .create();
    Node node = admin.nodes().withName(name).get();
    node.setStatus(
        new NodeStatusBuilder()
            .withAllocatable(Map.of(GpuPlacement.GPU_RESOURCE, new Quantity("1")))
            .withCapacity(Map.of(GpuPlacement.GPU_RESOURCE, new Quantity("1")))
            .build());
    admin.nodes().resource(node).updateStatus();
  }
}
