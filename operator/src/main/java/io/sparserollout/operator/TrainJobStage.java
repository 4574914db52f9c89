package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.pipeline.TrainJobs;

/**
 * What fine-tuning run by Kubeflow Trainer needs from the API ({@link TrainJobs} builds the
 * TrainJob): whether the cluster serves TrainJobs, the TrainJob created or adopted, read, and
 * deleted with its revision. No informer watches TrainJobs (the CRD may come and go), so a running
 * one is read on the progress poll.
 */
final class TrainJobStage {
  static final ResourceDefinitionContext CONTEXT =
      new ResourceDefinitionContext.Builder()
          .withGroup(TrainJobs.GROUP)
          .withVersion("v1alpha1")
          .withKind(TrainJobs.KIND)
          .withPlural(TrainJobs.PLURAL)
          .withNamespaced(true)
          .build();

  /** The TrainJob created now, the model's own already there, or why it cannot run. */
  record Started(
      GenericKubernetesResource trainJob, boolean created, WorkerSetResources.Blocked blocked) {}

  private TrainJobStage() {}

  /** Why Trainer cannot run the stage in this cluster, or null when it can. */
  static WorkerSetResources.Blocked unavailable(KubernetesClient client) {
    if (client.supports(TrainJobs.API_VERSION, TrainJobs.KIND)) {
      return null;
    }
    return new WorkerSetResources.Blocked(
        "TrainerNotInstalled",
        "spec.fineTuning.trainJob asks Kubeflow Trainer to run the fine-tuning, but the cluster"
            + " serves no "
            + TrainJobs.PLURAL
            + "."
            + TrainJobs.GROUP
            + " ("
            + TrainJobs.API_VERSION
            + "): install Kubeflow Trainer 2.2 or newer, or remove spec.fineTuning.trainJob to run"
            + " the workers as the operator's own Jobs");
  }

  /** The model's TrainJob of the revision, or null (none, or no such API). */
  static GenericKubernetesResource get(
      KubernetesClient client, SparseModel model, String revision) {
    try {
      GenericKubernetesResource found =
          client
              .genericKubernetesResources(CONTEXT)
              .inNamespace(model.getMetadata().getNamespace())
              .withName(TrainJobs.name(model, revision))
              .get();
      return found != null && OwnedResources.ownedBy(found, model) ? found : null;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Creates the TrainJob, or adopts the model's own of that name (made by a reconcile whose status
   * write was lost). Another's of that name, or a TrainJob the cluster refuses (Trainer's webhook:
   * the runtime missing, a quota), blocks the stage with the reason.
   */
  static Started start(
      KubernetesClient client, SparseModel model, GenericKubernetesResource desired) {
    var resources =
        client.genericKubernetesResources(CONTEXT).inNamespace(model.getMetadata().getNamespace());
    try {
      return new Started(resources.resource(desired).create(), true, null);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        GenericKubernetesResource existing =
            resources.withName(desired.getMetadata().getName()).get();
        if (existing != null && !OwnedResources.ownedBy(existing, model)) {
          return new Started(
              null,
              false,
              new WorkerSetResources.Blocked(
                  "NameTaken", new OwnedResources.NameTaken(existing).getMessage()));
        }
        return new Started(existing, false, null);
      }
      if (e.getCode() >= 400 && e.getCode() < 500) {
        String message =
            e.getStatus() != null && e.getStatus().getMessage() != null
                ? e.getStatus().getMessage()
                : e.getMessage();
        return new Started(
            null,
            false,
            new WorkerSetResources.Blocked(
                "TrainJobRefused",
                "the cluster refused TrainJob "
                    + desired.getMetadata().getName()
                    + " ("
                    + e.getCode()
                    + "): "
                    + message));
      }
      throw e;
    }
  }

  /** The model's TrainJobs of other revisions: their workers write where nothing reads. */
  static void deleteOtherRevisions(KubernetesClient client, SparseModel model, String revision) {
    try {
      for (GenericKubernetesResource old :
          client
              .genericKubernetesResources(CONTEXT)
              .inNamespace(model.getMetadata().getNamespace())
              .withLabel(StageJobs.MODEL_LABEL, model.getMetadata().getName())
              .list()
              .getItems()) {
        var labels = old.getMetadata().getLabels();
        if (OwnedResources.ownedBy(old, model)
            && !revision.equals(labels == null ? null : labels.get(StageJobs.REVISION_LABEL))) {
          client
              .genericKubernetesResources(CONTEXT)
              .resource(old)
              .withPropagationPolicy(DeletionPropagation.BACKGROUND)
              .delete();
        }
      }
    } catch (KubernetesClientException e) {
      // No such API, or a role without it (no TrainJob was ever made then): nothing to delete.
      if (e.getCode() != 404 && e.getCode() != 403) {
        throw e;
      }
    }
  }
}
