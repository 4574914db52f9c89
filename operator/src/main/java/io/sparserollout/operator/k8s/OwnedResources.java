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
   * The model's name and the suffix, within {@link #MAX_NAME}. A name too long for that is cut and
   * marked with a hash of the whole name, so two long names that share a beginning never share a
   * resource; the suffix stays whole.
   */
  public static String name(SparseModel model, String suffix) {
    return name(model, suffix, MAX_NAME);
  }

  /** The same within {@code max} characters. */
  public static String name(SparseModel model, String suffix, int max) {
    String base = model.getMetadata().getName();
    if (base.length() + suffix.length() <= max) {
      return base + suffix;
    }
    String hash = "-" + hash(base);
    return base.substring(0, max - suffix.length() - hash.length()) + hash + suffix;
  }

  private static String hash(String text) {
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest).substring(0, 6);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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

  /** Whether quantity {@code a} is more than {@code b} (both valid quantities). */
  public static boolean above(Quantity a, Quantity b) {
    return Quantity.getAmountInBytes(a).compareTo(Quantity.getAmountInBytes(b)) > 0;
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
   * resource. A default limit never falls below the spec's request (the API server would refuse the
   * pod); a spec whose own request exceeds its own limit is refused first ({@code SpecValidator}).
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
    // A default request never rises above the spec's own limit either.
    wantedRequests.replaceAll(
        (resource, request) -> {
          Quantity limit =
              custom == null || custom.limits() == null ? null : custom.limits().get(resource);
          boolean ownRequest =
              custom != null
                  && custom.requests() != null
                  && custom.requests().containsKey(resource);
          return !ownRequest && limit != null && above(request, limit) ? limit : request;
        });
    wantedLimits.replaceAll(
        (resource, limit) -> {
          Quantity request = wantedRequests.get(resource);
          boolean ownLimit =
              custom != null && custom.limits() != null && custom.limits().containsKey(resource);
          return !ownLimit && request != null && above(request, limit) ? request : limit;
        });
    return new ResourceRequirementsBuilder()
        .withRequests(wantedRequests)
        .withLimits(wantedLimits)
        .build();
  }
}
