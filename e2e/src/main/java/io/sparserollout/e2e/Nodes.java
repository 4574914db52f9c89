package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local cluster's nodes: the real {@code cpu-node} (its kubelet registers it) and two GPU nodes
 * that exist only in the API, labelled as the NVIDIA GPU Operator's GPU Feature Discovery labels
 * them (an A100 and a T4, tainted as GPU nodes are), so the real scheduler exercises GPU placement;
 * {@link ProcessKubelet} runs their pods as processes on this machine.
 */
public final class Nodes {
  public static final String CPU = "cpu-node";
  public static final String A100 = "a100-node";
  public static final String T4 = "t4-node";

  private Nodes() {}

  /** The nodes only the API knows, whose pods {@link ProcessKubelet} runs. */
  public static List<String> gpuNodes() {
    return List.of(A100, T4);
  }

  public static void registerGpuNodes(KubernetesClient client) {
    register(client, A100, gpuLabels("NVIDIA-A100-SXM4-80GB", "8", "0", "81920"), 4, true);
    register(client, T4, gpuLabels("Tesla-T4", "7", "5", "15360"), 1, true);
  }

  private static Map<String, String> gpuLabels(
      String product, String major, String minor, String memory) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("nvidia.com/gpu.present", "true");
    labels.put("nvidia.com/gpu.product", product);
    labels.put("nvidia.com/gpu.compute.major", major);
    labels.put("nvidia.com/gpu.compute.minor", minor);
    labels.put("nvidia.com/gpu.memory", memory);
    labels.put("nvidia.com/gpu.count", "1");
    return labels;
  }

  private static void register(
      KubernetesClient client, String name, Map<String, String> labels, int gpus, boolean taint) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    all.put("kubernetes.io/hostname", name);
    all.put("kubernetes.io/os", "linux");
    all.put("kubernetes.io/arch", "amd64");
    NodeBuilder node =
        new NodeBuilder().withNewMetadata().withName(name).withLabels(all).endMetadata();
    if (taint) {
      node.withNewSpec()
          .addNewTaint()
          .withKey("nvidia.com/gpu")
          .withValue("present")
          .withEffect("NoSchedule")
          .endTaint()
          .endSpec();
    }
    Node created = client.nodes().resource(node.build()).create();
    Map<String, Quantity> capacity = new LinkedHashMap<>();
    capacity.put("cpu", new Quantity("16"));
    capacity.put("memory", new Quantity("64Gi"));
    capacity.put("pods", new Quantity("110"));
    if (gpus > 0) {
      capacity.put("nvidia.com/gpu", new Quantity(Integer.toString(gpus)));
    }
    String now = Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
    created.setStatus(
        new io.fabric8.kubernetes.api.model.NodeStatusBuilder()
            .withCapacity(capacity)
            .withAllocatable(capacity)
            .withConditions(
                new NodeConditionBuilder()
                    .withType("Ready")
                    .withStatus("True")
                    .withReason("KubeletReady")
                    .withMessage("GPU node of the e2e harness: its pods run as processes")
                    .withLastHeartbeatTime(now)
                    .withLastTransitionTime(now)
                    .build())
            .addNewAddress()
            .withType("InternalIP")
            .withAddress("127.0.0.1")
            .endAddress()
            .withNewNodeInfo()
            .withKubeletVersion("v1.20.2")
            .withOperatingSystem("linux")
            .withArchitecture("amd64")
            .withContainerRuntimeVersion("process://e2e")
            .withOsImage("e2e harness")
            .withKernelVersion("")
            .withKubeProxyVersion("")
            .withBootID("")
            .withMachineID("")
            .withSystemUUID("")
            .endNodeInfo()
            .build());
    Node ready = client.nodes().resource(created).updateStatus();
    // The API server taints new nodes not-ready until the node lifecycle controller sees them
    // Ready; that controller does not run here, so the harness lifts the taint itself.
    if (ready.getSpec().getTaints() != null
        && ready
            .getSpec()
            .getTaints()
            .removeIf(t -> t.getKey().startsWith("node.kubernetes.io/"))) {
      client.nodes().resource(ready).update();
    }
  }
}
