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
 * scaling moves the generation too), not on every reconcile.
 */
final class AutoscalerSync {
  private static final Logger LOG = Logger.getLogger(AutoscalerSync.class);

  private AutoscalerSync() {}

  /**
   * @throws OwnedResources.NameTaken when an HPA of the model's name is somebody else's
   */
  static void sync(
      KubernetesClient client, String fieldManager, SparseModel model, ServingMemory memory) {
    String id = model.getMetadata().getUid() + "@" + model.getMetadata().getGeneration();
    if (!memory.autoscalersSynced.add(id)) {
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
    } catch (KubernetesClientException e) {
      // Serving goes on at the replicas it has; the next generation or restart tries again.
      memory.autoscalersSynced.remove(id);
      LOG.warnf(
          "HorizontalPodAutoscaler %s/%s not %s: %s",
          model.getMetadata().getNamespace(),
          model.getMetadata().getName(),
          model.getSpec().rollout().autoscaling() == null ? "removed" : "applied",
          e.getMessage());
    } catch (RuntimeException e) {
      memory.autoscalersSynced.remove(id);
      throw e;
    }
  }
}
