package io.sparserollout.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.SSABasedGenericKubernetesResourceMatcher;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Desired state re-applied on every reconcile, written only where it drifted: a resource is
 * compared with the fields this controller's field manager owns (JOSDK's server-side-apply matcher,
 * as its dependent resources do) and applied with force when any differs, so a changed template, an
 * operator setting or a {@code kubectl edit} of a managed field is corrected.
 */
public final class ServerSideApply {
  private static final Logger LOG = Logger.getLogger(ServerSideApply.class);

  private ServerSideApply() {}

  /**
   * @param actual the resource as the informer cache holds it; null when it does not exist
   * @return whether anything was written
   */
  public static <R extends HasMetadata> boolean apply(Context<?> context, R actual, R desired) {
    if (actual != null && matches(context, actual, desired)) {
      return false;
    }
    if (actual == null) {
      verifyNameFree(context, desired);
    }
    context
        .getClient()
        .resource(desired)
        .fieldManager(context.getControllerConfiguration().fieldManager())
        .forceConflicts()
        .serverSideApply();
    if (actual != null) {
      LOG.infof(
          "%s %s differed from its desired state: applied",
          desired.getKind(), desired.getMetadata().getName());
    }
    return true;
  }

  /**
   * Server-side apply would take over an existing resource of the same name, so before a resource
   * the cache does not hold is applied, the name is looked up: it must be free or controlled by the
   * desired resource's owner (the cache lagged), or it is somebody else's: {@link
   * OwnedResources.NameTaken}.
   */
  private static void verifyNameFree(Context<?> context, HasMetadata desired) {
    HasMetadata existing = context.getClient().resource(desired).get();
    String owner =
        desired.getMetadata().getOwnerReferences().stream()
            .filter(o -> Boolean.TRUE.equals(o.getController()))
            .map(o -> o.getUid())
            .findFirst()
            .orElse(null);
    if (existing != null && !OwnedResources.controlledBy(existing, owner)) {
      throw new OwnedResources.NameTaken(existing);
    }
  }

  /**
   * Whether the actual resource holds the desired state. API servers differ on empty objects
   * ({@code emptyDir: {}}): older ones record no managed field for them, newer ones do, so the
   * desired state matches either as it is or without its empty objects.
   */
  private static <R extends HasMetadata> boolean matches(Context<?> context, R actual, R desired) {
    SSABasedGenericKubernetesResourceMatcher<R> matcher =
        SSABasedGenericKubernetesResourceMatcher.getInstance();
    return matcher.matches(actual, desired, context)
        || matcher.matches(actual, comparable(context, desired), context);
  }

  /**
   * The desired resource without its empty objects ({@code emptyDir: {}}): the API server records
   * no managed field for an empty object, so the matcher would never find it in the actual state.
   */
  @SuppressWarnings("unchecked")
  private static <R extends HasMetadata> R comparable(Context<?> context, R desired) {
    var serialization = context.getClient().getKubernetesSerialization();
    Map<String, Object> tree = serialization.convertValue(desired, Map.class);
    dropEmptyObjects(tree);
    return (R) serialization.convertValue(tree, desired.getClass());
  }

  @SuppressWarnings("unchecked")
  private static void dropEmptyObjects(Object node) {
    if (node instanceof Map<?, ?> map) {
      map.values().removeIf(value -> value instanceof Map<?, ?> child && child.isEmpty());
      map.values().forEach(ServerSideApply::dropEmptyObjects);
    } else if (node instanceof List<?> list) {
      list.forEach(ServerSideApply::dropEmptyObjects);
    }
  }
}
