package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.Storage;
import io.sparserollout.operator.pipeline.WorkerSet;
import io.sparserollout.operator.pipeline.WorkerStates;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a stage run by several workers needs from the API beside its Jobs ({@link WorkerSet}): the
 * claims checked, worker 0's rendezvous Service and NetworkPolicy kept in place, and the workers
 * stopped once they can only wait.
 */
final class WorkerSetResources {
  /** Why a worker set cannot start or run now: a StageBlocked reason and message. */
  record Blocked(String reason, String message) {}

  private WorkerSetResources() {}

  /**
   * Before any worker starts: every name the set will take is free or the model's own, and the
   * claims can be mounted from many nodes.
   */
  static Blocked preflight(KubernetesClient client, SparseModel model, List<Job> jobs) {
    for (Job job : jobs) {
      Job existing = client.resource(job).get();
      if (existing != null && !OwnedResources.ownedBy(existing, model)) {
        return new Blocked("NameTaken", new OwnedResources.NameTaken(existing).getMessage());
      }
    }
    String namespace = model.getMetadata().getNamespace();
    String zero = jobs.get(0).getMetadata().getName();
    for (HasMetadata existing :
        java.util.Arrays.asList(
            client.services().inNamespace(namespace).withName(zero).get(),
            client.network().v1().networkPolicies().inNamespace(namespace).withName(zero).get())) {
      if (existing != null && !controlledByJobNamed(existing, zero)) {
        return new Blocked("NameTaken", new OwnedResources.NameTaken(existing).getMessage());
      }
    }
    return claims(client, model);
  }

  /** Whether the claims the workers mount can be mounted from many nodes. */
  static Blocked claims(KubernetesClient client, SparseModel model) {
    Map<String, PersistentVolumeClaim> found = new HashMap<>();
    for (String claim : Storage.claims(model)) {
      try {
        PersistentVolumeClaim pvc =
            client
                .persistentVolumeClaims()
                .inNamespace(model.getMetadata().getNamespace())
                .withName(claim)
                .get();
        if (pvc != null) {
          found.put(claim, pvc);
        }
      } catch (KubernetesClientException e) {
        return new Blocked(
            "ClaimNotReadable",
            "cannot read claim "
                + claim
                + " to check that every worker's node can mount it (does the operator's role"
                + " allow get on persistentvolumeclaims?): "
                + e.getMessage());
      }
    }
    String unshared = WorkerSet.unshareable(model, found);
    return unshared == null ? null : new Blocked("ClaimNotShared", unshared);
  }

  /**
   * Worker 0's Service and NetworkPolicy, created where missing. One left by an earlier worker 0
   * Job of the same name (not yet garbage-collected) is deleted, to be created again for this one;
   * somebody else's of that name blocks the set.
   */
  static Blocked ensure(
      KubernetesClient client, SparseModel model, String revision, Stage stage, Job workerZero) {
    if (workerZero == null || workerZero.getMetadata().getUid() == null) {
      return null; // not created yet: the next reconcile comes with it
    }
    for (HasMetadata desired :
        List.of(
            WorkerSet.rendezvous(model, revision, stage, workerZero),
            WorkerSet.isolation(model, revision, stage, workerZero))) {
      try {
        Blocked blocked = ensure(client, desired, workerZero);
        if (blocked != null) {
          return blocked;
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 403) {
          throw e;
        }
        return new Blocked(
            "Forbidden",
            "cannot create the workers' "
                + desired.getKind()
                + " "
                + desired.getMetadata().getName()
                + " (does the operator's role allow it? manifests/base/rbac.yaml): "
                + e.getMessage());
      }
    }
    return null;
  }

  /**
   * Whether the name of a TrainJob's NetworkPolicy is free (or a TrainJob's of that name, an
   * earlier one of this model): somebody else's blocks the stage before the TrainJob is made.
   */
  static Blocked policyNameFree(KubernetesClient client, SparseModel model, String revision) {
    String policy = WorkerSet.serviceName(model, revision, Stage.FINETUNE);
    try {
      HasMetadata existing =
          client
              .network()
              .v1()
              .networkPolicies()
              .inNamespace(model.getMetadata().getNamespace())
              .withName(policy)
              .get();
      String trainJob = io.sparserollout.operator.pipeline.TrainJobs.name(model, revision);
      return existing == null || controlledBy(existing, "TrainJob", trainJob)
          ? null
          : new Blocked("NameTaken", new OwnedResources.NameTaken(existing).getMessage());
    } catch (KubernetesClientException e) {
      if (e.getCode() != 403) {
        throw e;
      }
      return new Blocked(
          "Forbidden",
          "cannot read NetworkPolicy "
              + policy
              + " (does the operator's role allow it? manifests/base/rbac.yaml): "
              + e.getMessage());
    }
  }

  /**
   * The NetworkPolicy of a worker set that a TrainJob runs, owned by the TrainJob, created where
   * missing (one of an earlier TrainJob of that name is replaced).
   */
  static Blocked isolate(
      KubernetesClient client, SparseModel model, String revision, HasMetadata trainJob) {
    try {
      return ensure(
          client, WorkerSet.isolation(model, revision, Stage.FINETUNE, trainJob), trainJob);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 403) {
        throw e;
      }
      return new Blocked(
          "Forbidden",
          "cannot create the workers' NetworkPolicy (does the operator's role allow it?"
              + " manifests/base/rbac.yaml): "
              + e.getMessage());
    }
  }

  private static Blocked ensure(KubernetesClient client, HasMetadata desired, HasMetadata owner) {
    HasMetadata existing = client.resource(desired).get();
    if (existing == null) {
      try {
        client.resource(desired).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    } else if (!OwnedResources.controlledBy(existing, owner.getMetadata().getUid())) {
      String kind = owner instanceof Job ? "Job" : owner.getKind();
      if (!controlledBy(existing, kind, owner.getMetadata().getName())) {
        return new Blocked("NameTaken", new OwnedResources.NameTaken(existing).getMessage());
      }
      client.resource(existing).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      try {
        client.resource(desired).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) { // still going: the next reconcile creates it
          throw e;
        }
      }
    }
    return null;
  }

  /** Controlled by a Job of worker 0's name: this model's worker set's, now or earlier. */
  private static boolean controlledByJobNamed(HasMetadata existing, String workerZero) {
    return controlledBy(existing, "Job", workerZero);
  }

  private static boolean controlledBy(HasMetadata existing, String kind, String name) {
    var owners = existing.getMetadata().getOwnerReferences();
    return owners != null
        && owners.stream()
            .anyMatch(
                o ->
                    Boolean.TRUE.equals(o.getController())
                        && kind.equals(o.getKind())
                        && name.equals(o.getName()));
  }

  /**
   * Workers that can only wait now, after another's Job failed: they would retry against a set that
   * is gone. Failed and finished Jobs stay, with their pods and messages.
   */
  static void stop(KubernetesClient client, List<WorkerStates.Worker> workers) {
    for (WorkerStates.Worker worker :
        workers.size() < 2 ? List.<WorkerStates.Worker>of() : workers) {
      Job job = worker.job();
      if (job == null || job.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      if (!WorkerStates.ended(job)) {
        client.resource(job).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      }
    }
  }

  /**
   * After worker 0 reported: a worker with no pod from before then is retrying, and would wait for
   * a set that is gone. One whose pod took part (created before worker 0 finished) is left to
   * finish, its log kept.
   */
  static void stopRetrying(KubernetesClient client, List<WorkerStates.Worker> workers) {
    if (workers.size() < 2
        || workers.get(0).job() == null
        || workers.get(0).job().getStatus() == null
        || workers.get(0).job().getStatus().getCompletionTime() == null) {
      return;
    }
    String finished = workers.get(0).job().getStatus().getCompletionTime();
    for (WorkerStates.Worker worker : workers.subList(1, workers.size())) {
      Job job = worker.job();
      if (job == null
          || job.getMetadata().getDeletionTimestamp() != null
          || WorkerStates.ended(job)) {
        continue;
      }
      boolean tookPart =
          worker.pods().stream()
              .anyMatch(
                  p ->
                      p.getStatus() != null
                          && !"Failed".equals(p.getStatus().getPhase())
                          && p.getMetadata().getCreationTimestamp() != null
                          && java.time.Instant.parse(p.getMetadata().getCreationTimestamp())
                                  .compareTo(java.time.Instant.parse(finished))
                              <= 0);
      if (!tookPart) {
        client.resource(job).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      }
    }
  }
}
