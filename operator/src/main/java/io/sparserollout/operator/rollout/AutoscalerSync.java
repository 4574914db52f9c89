package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import org.jboss.logging.Logger;

/**
 * Keeps a served model's HorizontalPodAutoscaler as the spec says: applied while the spec asks for
 * autoscaling, deleted once it no longer does. Looked at once per spec generation (an HPA's own
 * scaling moves the generation too) and every {@link ServingMemory#RECHECK} (one deleted or edited
 * by hand comes back), not on every reconcile.
 */
final class AutoscalerSync {
  private static final Logger LOG = Logger.getLogger(AutoscalerSync.class);

  private AutoscalerSync() {}

  /**
   * @throws OwnedResources.NameTaken when an HPA of the model's name is somebody else's
   */
  static void sync(
      KubernetesClient client, String fieldManager, SparseModel model, ServingMemory memory) {
    if (!memory.autoscalers.due(model)) {
      return;
    }
    try {
      String version = memory.autoscalingVersion(client);
      var named =
          client
              .genericKubernetesResources(version, Autoscaler.KIND)
              .inNamespace(model.getMetadata().getNamespace())
              .withName(model.getMetadata().getName());
      GenericKubernetesResource existing = named.get();
      boolean ours = existing != null && OwnedResources.ownedBy(existing, model);
      if (model.getSpec().rollout().autoscaling() == null) {
        if (ours) {
          named.delete();
        }
        memory.autoscalers.checked(model);
        return;
      }
      if (existing != null && !ours) {
        throw new OwnedResources.NameTaken(existing);
      }
      client
          .resource(Autoscaler.desired(model, version))
          .fieldManager(fieldManager)
          .forceConflicts()
          .serverSideApply();
      memory.autoscalers.checked(model);
    } catch (KubernetesClientException e) {
      // Serving goes on at the replicas it has. Applying is tried again at the next reconcile;
      // looking for one to remove (a role without HPAs, say) only at the next check.
      if (model.getSpec().rollout().autoscaling() == null) {
        memory.autoscalers.checked(model);
      }
      LOG.warnf(
          "HorizontalPodAutoscaler %s/%s not %s: %s",
          model.getMetadata().getNamespace(),
          model.getMetadata().getName(),
          model.getSpec().rollout().autoscaling() == null ? "removed" : "applied",
          e.getMessage());
    }
  }
}
