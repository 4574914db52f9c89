package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageBlockage;
import io.sparserollout.operator.pipeline.StageJobs;
import io.sparserollout.operator.pipeline.TrainJobs;
import io.sparserollout.operator.pipeline.WorkerSet;
import io.sparserollout.operator.pipeline.WorkerStates;
import java.util.List;

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

  /** JobSet's API, fixed: discovery may not list it, and only a get by name is needed. */
  static final ResourceDefinitionContext JOBSET =
      new ResourceDefinitionContext.Builder()
          .withGroup("jobset.x-k8s.io")
          .withVersion("v1alpha2")
          .withKind("JobSet")
          .withPlural("jobsets")
          .withNamespaced(true)
          .build();

  /**
   * A TrainJob as read (null: none) and its JobSet's node Job with its pods (null: none yet, or
   * none proven to be its own); {@code problem}: why it cannot be read.
   */
  record Run(
      GenericKubernetesResource trainJob,
      GenericKubernetesResource jobSet,
      WorkerStates.Worker node,
      WorkerSetResources.Blocked problem) {}

  /** The TrainJob created now, the model's own already there, or why it cannot run. */
  record Started(
      GenericKubernetesResource trainJob, boolean created, WorkerSetResources.Blocked blocked) {}

  private TrainJobStage() {}

  /**
   * Makes the TrainJob once nothing blocks it: a runtime the operator may use, a cluster that
   * serves TrainJobs, claims every node can mount (several workers), the workers' NetworkPolicy
   * name free. The policy follows the TrainJob at once; when it cannot be made, the TrainJob goes
   * again (workers open to the namespace never run) and the stage is blocked.
   */
  static Started launch(
      KubernetesClient client,
      SparseModel model,
      String revision,
      GenericKubernetesResource desired,
      java.util.Set<String> runtimes) {
    WorkerSetResources.Blocked blocked =
        notAllowed(runtimes, model.getSpec().fineTuning().trainJob());
    if (blocked == null) {
      blocked = unavailable(client);
    }
    if (blocked == null && WorkerSet.workers(model, Stage.FINETUNE) > 1) {
      blocked = WorkerSetResources.claims(client, model);
    }
    if (blocked == null) {
      blocked = WorkerSetResources.policyNameFree(client, model, revision);
    }
    if (blocked != null) {
      return new Started(null, false, blocked);
    }
    Started started = start(client, model, desired);
    if (started.blocked() != null) {
      return started;
    }
    WorkerSetResources.Blocked open =
        WorkerSetResources.isolate(client, model, revision, started.trainJob());
    if (open != null) {
      delete(client, started.trainJob());
      return new Started(null, false, open);
    }
    return started;
  }

  /**
   * Why the spec's training runtime may not be used, or null: the operator's allow-list, by kind
   * and name (a bare name is a ClusterTrainingRuntime; a namespaced one is listed as
   * TrainingRuntime/name).
   */
  static WorkerSetResources.Blocked notAllowed(
      java.util.Set<String> allowed, io.sparserollout.api.v1alpha1.TrainJobSpec trainJob) {
    String runtime = trainJob.kind() + "/" + trainJob.runtimeName();
    if (allowed.contains(runtime)
        || (trainJob.kind().equals("ClusterTrainingRuntime")
            && allowed.contains(trainJob.runtimeName()))) {
      return null;
    }
    return new WorkerSetResources.Blocked(
        "RuntimeNotAllowed",
        "spec.fineTuning.trainJob names "
            + runtime
            + ", which is not among the runtimes this operator may use ("
            + (allowed.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(allowed)))
            + "): the operator creates the TrainJob with its own rights, so an administrator"
            + " allows each runtime (sparserollout.job.trainjob-runtimes)");
  }

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

  /**
   * The model's TrainJob of the revision and, among the Jobs labelled as its node Job ({@code
   * candidates}), the one its JobSet made: the JobSet, named as the TrainJob, is read to check both
   * UIDs (labels and names can be copied by anyone who may create Jobs).
   */
  static Run observe(
      KubernetesClient client,
      SparseModel model,
      String revision,
      List<WorkerStates.Worker> candidates) {
    GenericKubernetesResource trainJob = get(client, model, revision);
    if (trainJob == null) {
      return new Run(null, null, null, null);
    }
    GenericKubernetesResource jobSet;
    try {
      jobSet =
          client
              .genericKubernetesResources(JOBSET)
              .inNamespace(model.getMetadata().getNamespace())
              .withName(trainJob.getMetadata().getName())
              .get();
    } catch (KubernetesClientException e) {
      return new Run(
          trainJob,
          null,
          null,
          new WorkerSetResources.Blocked(
              e.getCode() == 403 ? "Forbidden" : "JobSetNotReadable",
              "cannot read the JobSet of TrainJob "
                  + trainJob.getMetadata().getName()
                  + " to check that its node Job is its own (does the operator's role allow get"
                  + " on jobsets.jobset.x-k8s.io? manifests/base/rbac.yaml): "
                  + e.getMessage()));
    }
    WorkerStates.Worker node =
        candidates.stream()
            .filter(c -> TrainJobs.madeBy(c.job(), jobSet, trainJob))
            .findFirst()
            .orElse(null);
    return new Run(trainJob, jobSet, node, null);
  }

  /** The model's TrainJob of the revision, or null (none, being deleted, or no such API). */
  static GenericKubernetesResource get(
      KubernetesClient client, SparseModel model, String revision) {
    try {
      GenericKubernetesResource found =
          client
              .genericKubernetesResources(CONTEXT)
              .inNamespace(model.getMetadata().getNamespace())
              .withName(TrainJobs.name(model, revision))
              .get();
      return found != null
              && OwnedResources.ownedBy(found, model)
              && found.getMetadata().getDeletionTimestamp() == null
          ? found
          : null;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Why Trainer has made no node Job for the TrainJob yet, from its newest Warning event (Trainer
   * reports a runtime it cannot build from, or a JobSet it cannot create, only there), or null.
   */
  static WorkerSetResources.Blocked warned(
      KubernetesClient client, GenericKubernetesResource trainJob) {
    try {
      return warnings(client, trainJob);
    } catch (KubernetesClientException e) {
      return null; // events are a hint only
    }
  }

  private static WorkerSetResources.Blocked warnings(
      KubernetesClient client, GenericKubernetesResource trainJob) {
    return client
        .v1()
        .events()
        .inNamespace(trainJob.getMetadata().getNamespace())
        .withField("involvedObject.uid", trainJob.getMetadata().getUid())
        .list()
        .getItems()
        .stream()
        .filter(e -> "Warning".equals(e.getType()))
        .max(java.util.Comparator.comparing(StageBlockage::lastSeen))
        .map(
            e ->
                new WorkerSetResources.Blocked(
                    e.getReason() == null ? "TrainJobWarning" : e.getReason(),
                    "TrainJob " + trainJob.getMetadata().getName() + ": " + e.getMessage()))
        .orElse(null);
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
      // First as a dry run: an older Trainer's schema drops the runtime patch, and a TrainJob
      // created without it would run at once, unlabelled, without volumes or deadline.
      String dropped = TrainJobs.dropped(resources.resource(desired).dryRun().create());
      if (dropped != null) {
        return new Started(
            null,
            false,
            new WorkerSetResources.Blocked(
                "TrainerTooOld",
                "the cluster's TrainJob schema drops "
                    + dropped
                    + ": Kubeflow Trainer before 2.2 has no runtime patches; upgrade it, or remove"
                    + " spec.fineTuning.trainJob"));
      }
      GenericKubernetesResource created = resources.resource(desired).create();
      return new Started(created, true, null);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        GenericKubernetesResource existing =
            resources.withName(desired.getMetadata().getName()).get();
        if (existing == null || existing.getMetadata().getDeletionTimestamp() != null) {
          return new Started(
              null,
              false,
              new WorkerSetResources.Blocked(
                  "TrainJobDeleting",
                  "an earlier TrainJob "
                      + desired.getMetadata().getName()
                      + " is still being deleted; it is created again once it is gone"));
        }
        if (!OwnedResources.ownedBy(existing, model)) {
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

  /** Deletes the TrainJob (its JobSet and pods go with it). */
  static void delete(KubernetesClient client, GenericKubernetesResource trainJob) {
    client
        .genericKubernetesResources(CONTEXT)
        .resource(trainJob)
        .withPropagationPolicy(DeletionPropagation.BACKGROUND)
        .delete();
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
