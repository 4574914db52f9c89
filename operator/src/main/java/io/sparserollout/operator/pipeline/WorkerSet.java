package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.FineTuneArgs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A stage run by several data-parallel workers (fine-tuning with {@code spec.fineTuning.workers}
 * above 1): one Job per worker, each pod told its rank on its command line, and a Service in front
 * of worker 0 where the others meet it (PyTorch c10d's TCPStore; the gradients then flow pod to
 * pod). One Job per worker rather than an Indexed Job: Indexed Jobs are on by default only from
 * Kubernetes 1.22 (the test cluster is 1.20). The Service has a ClusterIP rather than none: its
 * address survives a restart of worker 0's pod, where a headless name's DNS answer could still be
 * the old pod's.
 */
public final class WorkerSet {
  public static final String WORKER_LABEL = "sparserollout.io/worker";

  /** c10d's usual rendezvous port (torchrun's default). */
  public static final int RENDEZVOUS_PORT = 29500;

  private WorkerSet() {}

  /** How many workers run the stage: fine-tuning's count, else one. */
  public static int workers(SparseModel model, Stage stage) {
    return stage == Stage.FINETUNE && model.getSpec().fineTuning() != null
        ? model.getSpec().fineTuning().workerCount()
        : 1;
  }

  /** Worker 0's Job keeps the stage's name (its result is the stage's); worker N adds "-N". */
  public static String jobName(SparseModel model, String revision, Stage stage, int rank) {
    return rank == 0
        ? StageJobs.name(model, revision, stage)
        : OwnedResources.name(model, "-" + revision + "-" + stage.jobSuffix() + "-" + rank);
  }

  /** The rendezvous Service's name: worker 0's Job's. */
  public static String serviceName(SparseModel model, String revision, Stage stage) {
    return StageJobs.name(model, revision, stage);
  }

  /** HOST:PORT of the rendezvous, through the cluster DNS search path (any cluster domain). */
  public static String master(SparseModel model, String revision, Stage stage) {
    return serviceName(model, revision, stage)
        + "."
        + model.getMetadata().getNamespace()
        + ".svc:"
        + RENDEZVOUS_PORT;
  }

  /** The worker's rank from its Job's label; a Job without it (single-worker stage) is worker 0. */
  public static int rank(Job job) {
    String value = job.getMetadata().getLabels().get(WORKER_LABEL);
    try {
      return value == null ? 0 : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Why the claims the workers mount keep them on one node, or null when they do not: worker pods
   * land on different nodes, so each claim must be mountable from many (the store's read-write, the
   * others at least read-only). A claim not found yet is left to the pods' scheduling, which says
   * so.
   */
  public static String unshareable(
      SparseModel model, Map<String, io.fabric8.kubernetes.api.model.PersistentVolumeClaim> found) {
    String store = Storage.storeClaim(model);
    for (String claim : Storage.claims(model)) {
      var pvc = found.get(claim);
      if (pvc == null || pvc.getSpec() == null) {
        continue;
      }
      // A bound claim's status says what its volume gives; before binding, what it asks for.
      List<String> modes =
          pvc.getStatus() != null
                  && pvc.getStatus().getAccessModes() != null
                  && !pvc.getStatus().getAccessModes().isEmpty()
              ? pvc.getStatus().getAccessModes()
              : pvc.getSpec().getAccessModes() == null ? List.of() : pvc.getSpec().getAccessModes();
      boolean shared =
          modes.contains("ReadWriteMany")
              || (!claim.equals(store) && modes.contains("ReadOnlyMany"));
      if (!shared) {
        return "spec.fineTuning.workers is "
            + workers(model, Stage.FINETUNE)
            + ", but claim "
            + claim
            + " is "
            + (modes.isEmpty() ? "without access modes" : String.join(", ", modes))
            + ": workers on different nodes cannot all mount it. Use a"
            + (claim.equals(store) ? " ReadWriteMany" : " ReadWriteMany or ReadOnlyMany")
            + " claim (or S3), or one worker";
      }
    }
    return null;
  }

  /** Every worker's Job, worker 0 first: the stage's Job with the worker's rank and name. */
  public static List<Job> jobs(
      SparseModel model,
      String revision,
      Stage stage,
      FineTuneArgs command,
      GpuPlacement.Decision placement,
      JobSettings settings) {
    int workers = workers(model, stage);
    String master = master(model, revision, stage);
    List<Job> jobs = new ArrayList<>();
    for (int rank = 0; rank < workers; rank++) {
      Job job =
          StageJobs.build(
              model,
              revision,
              stage,
              command.withWorker(new FineTuneArgs.Worker(rank, workers, master)).toArgs(),
              placement,
              settings);
      String label = String.valueOf(rank);
      job.getMetadata().setName(jobName(model, revision, stage, rank));
      job.getMetadata().getLabels().put(WORKER_LABEL, label);
      job.getSpec().getTemplate().getMetadata().getLabels().put(WORKER_LABEL, label);
      if (rank == 0) {
        job.getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getPorts()
            .add(
                new ContainerPortBuilder()
                    .withName("rendezvous")
                    .withContainerPort(RENDEZVOUS_PORT)
                    .build());
      }
      jobs.add(job);
    }
    return jobs;
  }

  /**
   * The Service the workers meet worker 0 at, owned by worker 0's Job: it goes when that Job goes
   * (a new revision, the model deleted). It selects that Job's pods by the Job controller's own
   * {@code controller-uid} label too.
   */
  public static Service rendezvous(
      SparseModel model, String revision, Stage stage, Job workerZero) {
    Map<String, String> selector = new LinkedHashMap<>(StageJobs.labels(model, revision, stage));
    selector.put(WORKER_LABEL, "0");
    selector.put("controller-uid", workerZero.getMetadata().getUid());
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(serviceName(model, revision, stage))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(StageJobs.labels(model, revision, stage))
        .withOwnerReferences(ownedBy(workerZero))
        .endMetadata()
        .withNewSpec()
        .withSelector(selector)
        .addNewPort()
        .withName("rendezvous")
        .withPort(RENDEZVOUS_PORT)
        .withNewTargetPort(RENDEZVOUS_PORT)
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * Who may reach the workers, where the cluster enforces NetworkPolicy: c10d's store and Gloo
   * authenticate nobody, so only pods of the same worker set may connect to them (any port: Gloo
   * picks its own), and only the operator's pod to the progress port. Owned by worker 0's Job, or
   * by the TrainJob whose pods carry the set's labels.
   */
  public static NetworkPolicy isolation(
      SparseModel model, String revision, Stage stage, HasMetadata workerZero) {
    Map<String, String> set = StageJobs.labels(model, revision, stage);
    return new NetworkPolicyBuilder()
        .withNewMetadata()
        .withName(serviceName(model, revision, stage))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(set)
        .withOwnerReferences(ownedBy(workerZero))
        .endMetadata()
        .withNewSpec()
        .withNewPodSelector()
        .withMatchLabels(set)
        .endPodSelector()
        .withPolicyTypes("Ingress")
        .addNewIngress()
        .addNewFrom()
        .withNewPodSelector()
        .withMatchLabels(set)
        .endPodSelector()
        .endFrom()
        .endIngress()
        .addNewIngress()
        .addNewFrom()
        .withNewNamespaceSelector()
        .endNamespaceSelector()
        .withNewPodSelector()
        .withMatchLabels(Map.of("app.kubernetes.io/name", OPERATOR_NAME))
        .endPodSelector()
        .endFrom()
        .addNewPort()
        .withProtocol("TCP")
        .withNewPort(ProgressReader.PORT)
        .endPort()
        .endIngress()
        .endSpec()
        .build();
  }

  /** The operator pod's name label (manifests/base). */
  static final String OPERATOR_NAME = "sparserollout-operator";

  /** Owned by worker 0's Job, or by the TrainJob that runs the workers. */
  private static io.fabric8.kubernetes.api.model.OwnerReference ownedBy(HasMetadata workerZero) {
    return new OwnerReferenceBuilder()
        .withApiVersion(workerZero instanceof Job ? "batch/v1" : workerZero.getApiVersion())
        .withKind(workerZero instanceof Job ? "Job" : workerZero.getKind())
        .withName(workerZero.getMetadata().getName())
        .withUid(workerZero.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(false)
        .build();
  }
}
