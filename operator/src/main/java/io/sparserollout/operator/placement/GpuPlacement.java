package io.sparserollout.operator.placement;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.GpuSelector;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Chooses where GPU work runs from GPU Feature Discovery labels and the GPU Operator's
 * ClusterPolicy: nodes of one GPU product (an engine runs only on the product it was built on),
 * with enough compute capability and the GPU (or MIG) resource.
 */
public final class GpuPlacement {
  public static final String PRODUCT = "nvidia.com/gpu.product";
  public static final String MAJOR = "nvidia.com/gpu.compute.major";
  public static final String MINOR = "nvidia.com/gpu.compute.minor";
  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  /** GPU Feature Discovery's label of the driver branch, and the deprecated one it also writes. */
  public static final String DRIVER_MAJOR = "nvidia.com/cuda.driver-version.major";

  static final String DRIVER_MAJOR_DEPRECATED = "nvidia.com/cuda.driver.major";

  /**
   * The CUDA major version of the bindings in the images (org.bytedeco cuda 13.1, the parent POM's
   * cuda-javacpp.version), and the driver branch it needs at least.
   */
  static final int CUDA_MAJOR = 13;

  static final int MIN_DRIVER_MAJOR = 580;

  private static final String MIG_SUFFIX = "-MIG-";
  private static final String SHARED_SUFFIX = "-SHARED";

  private GpuPlacement() {}

  /** Where a stage (or a serving pod) runs. */
  public sealed interface Decision {
    /** Nodes the pod may run on; none for CPU work. */
    default Map<String, String> nodeSelector() {
      return Map.of();
    }

    default List<Toleration> tolerations() {
      return List.of();
    }

    /** Adds the GPU (or MIG slice) the pod needs to its resources; nothing for CPU work. */
    default void requestGpu(io.fabric8.kubernetes.api.model.ResourceRequirements resources) {}

    /** Node affinity beyond the selector; null for none. */
    default Affinity affinity() {
      return null;
    }
  }

  /** Any node; no GPU requested. */
  public record OnCpu() implements Decision {}

  /** Nodes labelled with {@code product}, one {@code resource} requested, GPU taint tolerated. */
  public record OnGpu(
      String product,
      String resource,
      Map<String, String> nodeSelector,
      List<Toleration> tolerations)
      implements Decision {
    @Override
    public void requestGpu(io.fabric8.kubernetes.api.model.ResourceRequirements resources) {
      requestOne(resources, resource);
    }

    /**
     * Not on a node whose driver GPU Feature Discovery reports too old for the CUDA the images'
     * bindings are for: its pod could only fail. A node it says nothing of is not excluded.
     */
    @Override
    public Affinity affinity() {
      return driverAffinity(null);
    }
  }

  /**
   * Nodes of any of {@code products}, the first the one the engine stage chose: serving pods of a
   * plan built on each, every pod loading the plan of its own GPU.
   */
  public record OnProducts(List<String> products, String resource, List<Toleration> tolerations)
      implements Decision {
    @Override
    public void requestGpu(io.fabric8.kubernetes.api.model.ResourceRequirements resources) {
      requestOne(resources, resource);
    }

    @Override
    public Affinity affinity() {
      return driverAffinity(
          new NodeSelectorRequirementBuilder()
              .withKey(PRODUCT)
              .withOperator("In")
              .withValues(products)
              .build());
    }
  }

  private static void requestOne(
      io.fabric8.kubernetes.api.model.ResourceRequirements resources, String resource) {
    resources.getLimits().put(resource, new Quantity("1"));
    resources.getRequests().put(resource, new Quantity("1"));
  }

  private static NodeSelectorRequirement requirement(String key, String operator, String value) {
    NodeSelectorRequirementBuilder requirement =
        new NodeSelectorRequirementBuilder().withKey(key).withOperator(operator);
    return (value == null ? requirement : requirement.withValues(value)).build();
  }

  /** Serving on several products: the first's resource, requested on any of them. */
  public static OnProducts servingOn(List<String> products, String resource) {
    return new OnProducts(List.copyOf(products), resource, onProduct(null, resource).tolerations());
  }

  /**
   * A driver of the R580 branch or newer, or one GPU Feature Discovery does not report; with {@code
   * also} in either case.
   */
  private static Affinity driverAffinity(NodeSelectorRequirement also) {
    String least = String.valueOf(MIN_DRIVER_MAJOR - 1);
    List<NodeSelectorTerm> terms = new java.util.ArrayList<>();
    for (List<NodeSelectorRequirement> driver :
        List.of(
            List.of(requirement(DRIVER_MAJOR, "Gt", least)),
            List.of(
                requirement(DRIVER_MAJOR, "DoesNotExist", null),
                requirement(DRIVER_MAJOR_DEPRECATED, "Gt", least)),
            List.of(
                requirement(DRIVER_MAJOR, "DoesNotExist", null),
                requirement(DRIVER_MAJOR_DEPRECATED, "DoesNotExist", null)))) {
      List<NodeSelectorRequirement> match = new java.util.ArrayList<>();
      if (also != null) {
        match.add(also);
      }
      match.addAll(driver);
      terms.add(new NodeSelectorTermBuilder().withMatchExpressions(match).build());
    }
    return new AffinityBuilder()
        .withNewNodeAffinity()
        .withNewRequiredDuringSchedulingIgnoredDuringExecution()
        .withNodeSelectorTerms(terms)
        .endRequiredDuringSchedulingIgnoredDuringExecution()
        .endNodeAffinity()
        .build();
  }

  /** No node qualifies; {@code reason} names what is missing. */
  public record Unplaceable(String reason) implements Decision {}

  /**
   * @param clusterPolicyState status.state of the GPU Operator's ClusterPolicy, if one exists
   */
  public static Decision decide(
      EngineSpec engine, List<Node> nodes, Optional<String> clusterPolicyState) {
    if (engine.backend() != EngineSpec.Backend.TENSORRT) {
      return new OnCpu();
    }
    if (clusterPolicyState.isPresent() && !"ready".equals(clusterPolicyState.get())) {
      return new Unplaceable(
          "the NVIDIA GPU Operator's ClusterPolicy is " + clusterPolicyState.get() + ", not ready");
    }
    GpuSelector gpu = engine.gpu();
    String profile = gpu.migProfile();
    double minimum = Double.parseDouble(gpu.minComputeCapability());
    List<Node> gpuNodes = nodes.stream().filter(n -> label(n, PRODUCT) != null).toList();
    if (gpuNodes.isEmpty()) {
      return new Unplaceable("no node carries the " + PRODUCT + " label (GPU Feature Discovery)");
    }
    List<Node> capable = gpuNodes.stream().filter(n -> capability(n) >= minimum - 1e-9).toList();
    if (capable.isEmpty()) {
      return new Unplaceable(
          "no GPU node has compute capability >= "
              + gpu.minComputeCapability()
              + " (found "
              + describe(gpuNodes)
              + ")");
    }
    List<Node> withProduct =
        gpu.product() == null
            ? capable
            : capable.stream()
                .filter(n -> isProduct(label(n, PRODUCT), gpu.product(), profile))
                .toList();
    if (withProduct.isEmpty()) {
      return new Unplaceable(
          "no node with "
              + PRODUCT
              + "="
              + gpu.product()
              + " and compute capability >= "
              + gpu.minComputeCapability()
              + " (found "
              + describe(gpuNodes)
              + ")");
    }
    List<Node> driven =
        withProduct.stream()
            .filter(n -> driverMajor(n) < 0 || driverMajor(n) >= MIN_DRIVER_MAJOR)
            .toList();
    if (driven.isEmpty()) {
      return new Unplaceable(
          "no GPU node's NVIDIA driver is new enough for CUDA "
              + CUDA_MAJOR
              + ", which the images' TensorRT bindings use: it needs the R"
              + MIN_DRIVER_MAJOR
              + " branch or newer (found "
              + withProduct.stream()
                  .map(n -> label(n, PRODUCT) + " driver " + driverMajor(n))
                  .distinct()
                  .sorted()
                  .collect(Collectors.joining(", "))
              + ")");
    }
    List<Node> schedulable =
        driven.stream()
            .filter(
                n ->
                    !Boolean.TRUE.equals(
                        n.getSpec() == null ? null : n.getSpec().getUnschedulable()))
            .filter(n -> allocatable(n, resourceOn(label(n, PRODUCT), profile)) > 0)
            .toList();
    if (schedulable.isEmpty()) {
      String product = label(driven.get(0), PRODUCT);
      return new Unplaceable(
          "no schedulable node of product " + product + " offers " + resourceOn(product, profile));
    }
    String product = ranked(schedulable).get(0);
    return onProduct(product, resourceOn(product, profile));
  }

  /**
   * Every product the engine can be built and served on, {@link #decide}'s first: without a
   * requested product, each qualifying one that offers the same resource (one pod template asks for
   * one); with one, that one. Empty when nothing qualifies.
   */
  public static List<OnGpu> everyProduct(
      EngineSpec engine, List<Node> nodes, Optional<String> clusterPolicyState) {
    if (!(decide(engine, nodes, clusterPolicyState) instanceof OnGpu first)) {
      return List.of();
    }
    GpuSelector gpu = engine.gpu();
    if (gpu.product() != null) {
      return List.of(first);
    }
    double minimum = Double.parseDouble(gpu.minComputeCapability());
    List<Node> qualifying =
        nodes.stream()
            .filter(n -> label(n, PRODUCT) != null && capability(n) >= minimum - 1e-9)
            .filter(n -> driverMajor(n) < 0 || driverMajor(n) >= MIN_DRIVER_MAJOR)
            .filter(
                n ->
                    !Boolean.TRUE.equals(
                        n.getSpec() == null ? null : n.getSpec().getUnschedulable()))
            .filter(n -> allocatable(n, resourceOn(label(n, PRODUCT), gpu.migProfile())) > 0)
            .toList();
    return ranked(qualifying).stream()
        .map(p -> onProduct(p, resourceOn(p, gpu.migProfile())))
        .filter(g -> g.resource().equals(first.resource()))
        .toList();
  }

  /** Products by preference: the most capable first, then the most common, then by name. */
  private static List<String> ranked(List<Node> nodes) {
    Map<String, List<Node>> byProduct =
        nodes.stream()
            .collect(
                Collectors.groupingBy(n -> label(n, PRODUCT), TreeMap::new, Collectors.toList()));
    return byProduct.entrySet().stream()
        .sorted(
            Comparator.<Map.Entry<String, List<Node>>>comparingDouble(
                    e -> capability(e.getValue().get(0)))
                .thenComparingInt(e -> e.getValue().size())
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .map(Map.Entry::getKey)
        .toList();
  }

  /**
   * What a node of {@code product} offers one GPU, or one MIG slice of {@code migProfile}, as. With
   * the device plugin's mixed MIG strategy each profile is a resource of its own; with the single
   * strategy every slice is an nvidia.com/gpu and GPU Feature Discovery appends "-MIG-" and the
   * profile to the product label instead.
   */
  static String resourceOn(String product, String migProfile) {
    if (migProfile == null
        || (product != null && withoutShared(product).endsWith(MIG_SUFFIX + migProfile))) {
      return GPU_RESOURCE;
    }
    return "nvidia.com/mig-" + migProfile;
  }

  /**
   * Whether a node labelled {@code label} has the {@code requested} product: the same, or the same
   * with the suffixes GPU Feature Discovery adds for time-slicing ("-SHARED") and, when the spec
   * asks for that MIG slice, MIG's single strategy ("-MIG-1g.10gb"): a slice is not a whole GPU.
   */
  static boolean isProduct(String label, String requested, String migProfile) {
    if (label == null) {
      return false;
    }
    String base = withoutShared(label);
    return label.equals(requested)
        || base.equals(requested)
        || (migProfile != null && base.equals(requested + MIG_SUFFIX + migProfile));
  }

  private static String withoutShared(String label) {
    return label.endsWith(SHARED_SUFFIX)
        ? label.substring(0, label.length() - SHARED_SUFFIX.length())
        : label;
  }

  /**
   * Serving a built plan: the GPU product it was built on (a TensorRT plan runs only there), with
   * the spec's GPU or MIG resource.
   */
  public static OnGpu servingOn(EngineSpec engine, String product) {
    return onProduct(product, resourceOn(product, engine.gpu().migProfile()));
  }

  /** Serving on {@code product} with one {@code resource}, as recorded on a Deployment. */
  public static OnGpu servingOn(String product, String resource) {
    return onProduct(product, resource);
  }

  /** On {@code product}'s nodes, or on any node offering {@code resource} when it is null. */
  private static OnGpu onProduct(String product, String resource) {
    return new OnGpu(
        product,
        resource,
        product == null ? Map.of() : Map.of(PRODUCT, product),
        List.of(
            new TolerationBuilder()
                .withKey(GPU_RESOURCE)
                .withOperator("Exists")
                .withEffect("NoSchedule")
                .build()));
  }

  /**
   * The {@link #PRODUCT} label value a stage Job was placed on, or null for a CPU Job. The operator
   * records this, not the name the stage reports: CUDA names the GPU "NVIDIA A100-SXM4-80GB", GPU
   * Feature Discovery labels its node "NVIDIA-A100-SXM4-80GB", and only the label selects nodes.
   */
  public static String placedOn(io.fabric8.kubernetes.api.model.batch.v1.Job job) {
    var pod = job.getSpec() == null ? null : job.getSpec().getTemplate().getSpec();
    return pod == null || pod.getNodeSelector() == null ? null : pod.getNodeSelector().get(PRODUCT);
  }

  private static String label(Node node, String key) {
    Map<String, String> labels = node.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }

  /** The node's NVIDIA driver branch (e.g. 580), or -1 when GPU Feature Discovery did not say. */
  static int driverMajor(Node node) {
    for (String key : List.of(DRIVER_MAJOR, DRIVER_MAJOR_DEPRECATED)) {
      try {
        String value = label(node, key);
        if (value != null) {
          return Integer.parseInt(value.strip());
        }
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  private static double capability(Node node) {
    try {
      return Double.parseDouble(label(node, MAJOR) + "." + label(node, MINOR));
    } catch (NumberFormatException | NullPointerException e) {
      return 0;
    }
  }

  private static long allocatable(Node node, String resource) {
    if (node.getStatus() == null || node.getStatus().getAllocatable() == null) {
      return 0;
    }
    Quantity quantity = node.getStatus().getAllocatable().get(resource);
    return quantity == null ? 0 : quantity.getNumericalAmount().longValue();
  }

  private static String describe(List<Node> nodes) {
    return nodes.stream()
        .map(n -> label(n, PRODUCT) + " " + label(n, MAJOR) + "." + label(n, MINOR))
        .distinct()
        .sorted()
        .collect(Collectors.joining(", "));
  }
}
