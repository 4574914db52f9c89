package io.sparserollout.operator.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.GpuSelector;
import io.sparserollout.api.v1alpha1.ShapeProfile;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GpuPlacementTest {
  private static final Node A100 =
      gpuNode("a100-1", "NVIDIA-A100-SXM4-80GB", 8, 0, "nvidia.com/gpu", 8);
  private static final Node T4 = gpuNode("t4-1", "Tesla-T4", 7, 5, "nvidia.com/gpu", 1);
  private static final Node CPU =
      new NodeBuilder().withNewMetadata().withName("cpu-1").endMetadata().build();

  @Test
  void onnxRuntimeNeedsNoGpu() {
    assertThat(
            GpuPlacement.decide(
                engine(EngineSpec.Backend.ONNXRUNTIME, null, null), List.of(CPU), Optional.empty()))
        .isInstanceOf(GpuPlacement.OnCpu.class);
  }

  @Test
  void tensorRtGoesToTheAmpereProductAndToleratesTheGpuTaint() {
    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null),
            List.of(CPU, T4, A100),
            Optional.of("ready"));

    assertThat(decision)
        .isInstanceOfSatisfying(
            GpuPlacement.OnGpu.class,
            gpu -> {
              assertThat(gpu.product()).isEqualTo("NVIDIA-A100-SXM4-80GB");
              assertThat(gpu.nodeSelector())
                  .containsEntry(GpuPlacement.PRODUCT, "NVIDIA-A100-SXM4-80GB");
              assertThat(gpu.resource()).isEqualTo("nvidia.com/gpu");
              assertThat(gpu.tolerations())
                  .singleElement()
                  .satisfies(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
            });
  }

  @Test
  void onlyPreAmpereGpusIsUnplaceableAndSaysWhatWasFound() {
    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null), List.of(CPU, T4), Optional.empty());

    assertThat(decision)
        .isEqualTo(
            new GpuPlacement.Unplaceable(
                "no GPU node has compute capability >= 8.0 (found Tesla-T4 7.5)"));
  }

  @Test
  void aRequestedProductThatNoNodeHasIsNamed() {
    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, "NVIDIA-H100-80GB-HBM3", null),
            List.of(A100),
            Optional.empty());

    assertThat(((GpuPlacement.Unplaceable) decision).reason())
        .contains("nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3");
  }

  @Test
  void migProfileRequestsTheMigResource() {
    Node mig = gpuNode("a100-mig", "NVIDIA-A100-SXM4-80GB", 8, 0, "nvidia.com/mig-1g.10gb", 7);

    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, "1g.10gb"),
            List.of(A100, mig),
            Optional.empty());

    assertThat(((GpuPlacement.OnGpu) decision).resource()).isEqualTo("nvidia.com/mig-1g.10gb");
  }

  @Test
  void migsSingleStrategyOffersTheSliceAsAGpuOnNodesWhoseProductLabelNamesTheProfile() {
    // GPU Feature Discovery under the single strategy: the slice is in the product label, and the
    // device plugin advertises each slice as nvidia.com/gpu (no nvidia.com/mig-1g.5gb exists).
    Node sliced =
        gpuNode("a100-single", "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", 8, 0, "nvidia.com/gpu", 7);

    for (String product : java.util.Arrays.asList(null, "NVIDIA-A100-SXM4-40GB")) {
      var decision =
          GpuPlacement.decide(
              engine(EngineSpec.Backend.TENSORRT, product, "1g.5gb"),
              List.of(sliced),
              Optional.empty());

      assertThat(decision)
          .isInstanceOfSatisfying(
              GpuPlacement.OnGpu.class,
              gpu -> {
                assertThat(gpu.product()).isEqualTo("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb");
                assertThat(gpu.resource()).isEqualTo("nvidia.com/gpu");
              });
    }
    assertThat(
            GpuPlacement.servingOn(
                    engine(EngineSpec.Backend.TENSORRT, null, "1g.5gb"),
                    "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb")
                .resource())
        .isEqualTo("nvidia.com/gpu");
    assertThat(
            GpuPlacement.servingOn(
                    engine(EngineSpec.Backend.TENSORRT, null, "1g.5gb"), "NVIDIA-A100-SXM4-40GB")
                .resource())
        .isEqualTo("nvidia.com/mig-1g.5gb");
  }

  @Test
  void aRequestedProductMatchesItsTimeSlicedNodes() {
    Node shared = gpuNode("a100-shared", "NVIDIA-A100-SXM4-80GB-SHARED", 8, 0, "nvidia.com/gpu", 4);

    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, "NVIDIA-A100-SXM4-80GB", null),
            List.of(shared),
            Optional.empty());

    assertThat(((GpuPlacement.OnGpu) decision).product()).isEqualTo("NVIDIA-A100-SXM4-80GB-SHARED");
    // The label itself matches as well; a slice only when the spec asks for that slice.
    assertThat(
            GpuPlacement.isProduct(
                "NVIDIA-A100-SXM4-80GB-SHARED", "NVIDIA-A100-SXM4-80GB-SHARED", null))
        .isTrue();
    assertThat(
            GpuPlacement.isProduct(
                "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb", "NVIDIA-A100-SXM4-80GB", "1g.10gb"))
        .isTrue();
    assertThat(
            GpuPlacement.isProduct(
                "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb", "NVIDIA-A100-SXM4-80GB", null))
        .isFalse();
    assertThat(GpuPlacement.isProduct("NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", null))
        .isFalse();
  }

  @Test
  void aDriverTooOldForTheBindingsCudaIsNamedAndItsNodesAreAvoided() {
    Node old = withLabel(A100, GpuPlacement.DRIVER_MAJOR, "535");
    var refused =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null), List.of(old), Optional.empty());
    assertThat(((GpuPlacement.Unplaceable) refused).reason())
        .isEqualTo(
            "no GPU node's NVIDIA driver is new enough for CUDA 13, which the images' TensorRT"
                + " bindings use: it needs the R580 branch or newer (found"
                + " NVIDIA-A100-SXM4-80GB driver 535)");
    // The deprecated label of an older GPU Feature Discovery counts as well.
    assertThat(GpuPlacement.driverMajor(withLabel(A100, "nvidia.com/cuda.driver.major", "550")))
        .isEqualTo(550);

    var placed =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null),
            List.of(old, withLabel(A100, GpuPlacement.DRIVER_MAJOR, "580"), A100),
            Optional.empty());
    var terms =
        placed
            .affinity()
            .getNodeAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution()
            .getNodeSelectorTerms();
    // Any term admits a node: a driver of the R580 branch or newer by the label, else by the
    // deprecated label, or one not labelled at all.
    assertThat(terms)
        .extracting(
            t ->
                t.getMatchExpressions().stream()
                    .map(e -> e.getKey() + " " + e.getOperator() + " " + e.getValues())
                    .toList())
        .containsExactly(
            List.of("nvidia.com/cuda.driver-version.major Gt [579]"),
            List.of(
                "nvidia.com/cuda.driver-version.major DoesNotExist []",
                "nvidia.com/cuda.driver.major Gt [579]"),
            List.of(
                "nvidia.com/cuda.driver-version.major DoesNotExist []",
                "nvidia.com/cuda.driver.major DoesNotExist []"));
    assertThat(new GpuPlacement.OnCpu().affinity()).isNull();
  }

  @Test
  void withoutARequestedProductEveryQualifyingProductIsBuiltForTheChosenFirst() {
    Node h100 = gpuNode("h100-1", "NVIDIA-H100-80GB-HBM3", 9, 0, "nvidia.com/gpu", 8);
    Node l4 = gpuNode("l4-1", "NVIDIA-L4", 8, 9, "nvidia.com/gpu", 1);
    Node mixedMig = gpuNode("a100-mig", "NVIDIA-A100-SXM4-40GB", 8, 0, "nvidia.com/mig-1g.5gb", 7);
    List<Node> nodes = List.of(CPU, T4, A100, h100, l4, mixedMig);

    assertThat(
            GpuPlacement.everyProduct(
                engine(EngineSpec.Backend.TENSORRT, null, null), nodes, Optional.empty()))
        .extracting(GpuPlacement.OnGpu::product)
        .containsExactly("NVIDIA-H100-80GB-HBM3", "NVIDIA-L4", "NVIDIA-A100-SXM4-80GB");
    // A requested product is the only one; nothing qualifying, none.
    assertThat(
            GpuPlacement.everyProduct(
                engine(EngineSpec.Backend.TENSORRT, "NVIDIA-L4", null), nodes, Optional.empty()))
        .extracting(GpuPlacement.OnGpu::product)
        .containsExactly("NVIDIA-L4");
    assertThat(
            GpuPlacement.everyProduct(
                engine(EngineSpec.Backend.TENSORRT, null, null), List.of(T4), Optional.empty()))
        .isEmpty();
    // One pod template asks for one resource: products offering another are left out.
    assertThat(
            GpuPlacement.everyProduct(
                engine(EngineSpec.Backend.TENSORRT, null, "1g.5gb"),
                List.of(
                    mixedMig,
                    gpuNode(
                        "a100-single",
                        "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb",
                        8,
                        0,
                        "nvidia.com/gpu",
                        7)),
                Optional.empty()))
        .extracting(GpuPlacement.OnGpu::product)
        .containsExactly("NVIDIA-A100-SXM4-40GB");
  }

  @Test
  void aGpuOperatorThatIsNotReadyBlocksPlacement() {
    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null),
            List.of(A100),
            Optional.of("notReady"));

    assertThat(((GpuPlacement.Unplaceable) decision).reason())
        .contains("ClusterPolicy is notReady");
  }

  @Test
  void noGpuNodesAtAllIsNamed() {
    var decision =
        GpuPlacement.decide(
            engine(EngineSpec.Backend.TENSORRT, null, null), List.of(CPU), Optional.empty());

    assertThat(((GpuPlacement.Unplaceable) decision).reason())
        .contains("no node carries the nvidia.com/gpu.product label");
  }

  private static Node withLabel(Node node, String key, String value) {
    Map<String, String> labels = new java.util.HashMap<>(node.getMetadata().getLabels());
    labels.put(key, value);
    return new NodeBuilder(node).editMetadata().withLabels(labels).endMetadata().build();
  }

  private static EngineSpec engine(EngineSpec.Backend backend, String product, String mig) {
    return new EngineSpec(
        backend,
        EngineSpec.Precision.FP16,
        new GpuSelector(product, "8.0", mig),
        new ShapeProfile(1, 8, 32, 1, 128, 128));
  }

  private static Node gpuNode(
      String name, String product, int major, int minor, String resource, int count) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(
            Map.of(
                GpuPlacement.PRODUCT,
                product,
                GpuPlacement.MAJOR,
                "" + major,
                GpuPlacement.MINOR,
                "" + minor))
        .endMetadata()
        .withNewStatus()
        .withAllocatable(Map.of(resource, new Quantity("" + count)))
        .endStatus()
        .build();
  }
}
