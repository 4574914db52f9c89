package io.sparserollout.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.sparserollout.api.v1alpha1.ComputeResources;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every resource the operator creates for a SparseModel shares, spelled once. */
public final class OwnedResources {
  /** Names that become label values (a Job's pods carry its name) have at most 63 characters. */
  public static final int MAX_NAME = 63;

  private OwnedResources() {}

  /**
   * The model's name, cut so that name and suffix fit {@link #MAX_NAME}; the suffix stays whole.
   */
  public static String name(SparseModel model, String suffix) {
    String base = model.getMetadata().getName();
    return base.substring(0, Math.min(base.length(), MAX_NAME - suffix.length())) + suffix;
  }

  /** The model as controlling owner: deleting it garbage-collects the resource. */
  public static OwnerReference ownedBy(SparseModel model) {
    return new OwnerReferenceBuilder()
        .withApiVersion(model.getApiVersion())
        .withKind(model.getKind())
        .withName(model.getMetadata().getName())
        .withUid(model.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /**
   * Whether {@code owner} (by UID, which nobody can forge: names and labels anyone can copy) is the
   * resource's controlling owner.
   */
  public static boolean controlledBy(HasMetadata resource, String ownerUid) {
    List<OwnerReference> owners = resource.getMetadata().getOwnerReferences();
    return ownerUid != null
        && owners != null
        && owners.stream()
            .anyMatch(o -> Boolean.TRUE.equals(o.getController()) && ownerUid.equals(o.getUid()));
  }

  /** Whether this model controls the resource. */
  public static boolean ownedBy(HasMetadata resource, SparseModel model) {
    return controlledBy(resource, model.getMetadata().getUid());
  }

  /** The resource's controlling owner as "Kind/name", or "no controller". */
  public static String controllerOf(HasMetadata resource) {
    List<OwnerReference> owners = resource.getMetadata().getOwnerReferences();
    return owners == null
        ? "no controller"
        : owners.stream()
            .filter(o -> Boolean.TRUE.equals(o.getController()))
            .map(o -> o.getKind() + "/" + o.getName())
            .findFirst()
            .orElse("no controller");
  }

  /**
   * A resource the operator would create or apply exists under the same name but belongs to
   * something else: reported as a condition, never adopted or overwritten.
   */
  public static final class NameTaken extends RuntimeException {
    public NameTaken(HasMetadata existing) {
      super(
          existing.getKind()
              + " "
              + existing.getMetadata().getName()
              + " already exists and is not controlled by this SparseModel ("
              + controllerOf(existing)
              + "); rename or delete it");
    }
  }

  /**
   * A container's resources: the defaults, each overridden by the spec's value for the same
   * resource.
   */
  public static ResourceRequirements resources(
      Map<String, Quantity> requests, Map<String, Quantity> limits, ComputeResources custom) {
    Map<String, Quantity> wantedRequests = new LinkedHashMap<>(requests);
    Map<String, Quantity> wantedLimits = new LinkedHashMap<>(limits);
    if (custom != null && custom.requests() != null) {
      wantedRequests.putAll(custom.requests());
    }
    if (custom != null && custom.limits() != null) {
      wantedLimits.putAll(custom.limits());
    }
    return new ResourceRequirementsBuilder()
        .withRequests(wantedRequests)
        .withLimits(wantedLimits)
        .build();
  }
}
