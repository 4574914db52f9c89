package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.TrainJobSpec;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.placement.GpuPlacement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tuning as a Kubeflow Trainer TrainJob ({@code spec.fineTuning.trainJob}): a pure builder
 * from the Job the operator would run itself, so both launch the same container. Trainer runs it as
 * a JobSet whose {@code node} Job has one indexed pod per worker, each told its rank and worker 0's
 * address by torchrun's variables ({@code PET_*}, which sparsify reads). Image, arguments,
 * environment, resources and the worker count go in {@code trainer}; volumes, mounts, security
 * contexts, placement and the stage's labels go in one runtime patch on the {@code node} Job, so
 * its Job and pods carry the labels the operator watches.
 */
public final class TrainJobs {
  public static final String GROUP = "trainer.kubeflow.org";
  public static final String API_VERSION = GROUP + "/v1alpha1";
  public static final String KIND = "TrainJob";
  public static final String PLURAL = "trainjobs";

  /** The replicated job and container a PyTorch runtime runs the trainer in (torch-distributed). */
  public static final String NODE = "node";

  /** Who wrote the runtime patch: Trainer wants a domain-prefixed name. */
  static final String MANAGER = "sparserollout.io/operator";

  /** JobSet's labels on the Jobs and pods it makes (the JobSet is named as the TrainJob). */
  public static final String JOBSET_NAME = "jobset.sigs.k8s.io/jobset-name";

  public static final String REPLICATED_JOB = "jobset.sigs.k8s.io/replicatedjob-name";

  /** Kueue's label naming the LocalQueue a workload is submitted to. */
  public static final String QUEUE_NAME = "kueue.x-k8s.io/queue-name";

  /** JobSet's API, whose JobSet (named as the TrainJob) makes the node Job. */
  public static final String JOBSET_API_VERSION = "jobset.x-k8s.io/v1alpha2";

  /** An indexed Job's annotation (and, from Kubernetes 1.28, label) of the pod's index. */
  public static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

  /** JobSet names pods {@code <jobset>-node-0-<index>}: a hostname, at most 63 characters. */
  static final int MAX_NAME = 63 - ("-" + NODE + "-0-").length() - 2;

  private TrainJobs() {}

  /** Whether the spec asks Trainer to run fine-tuning. */
  public static boolean requested(SparseModel model) {
    return model.getSpec().fineTuning() != null && model.getSpec().fineTuning().trainJob() != null;
  }

  /** Deterministic, as a stage Job's name is, and short enough for JobSet's pod hostnames. */
  public static String name(SparseModel model, String revision) {
    return OwnedResources.name(model, "-" + revision + "-" + Stage.FINETUNE.jobSuffix(), MAX_NAME);
  }

  /**
   * The TrainJob running the fine-tune {@code args} (without a worker's identity: Trainer gives it)
   * on {@code workers} nodes.
   */
  public static GenericKubernetesResource build(
      SparseModel model,
      String revision,
      List<String> args,
      GpuPlacement.Decision placement,
      JobSettings settings) {
    TrainJobSpec trainJob = model.getSpec().fineTuning().trainJob();
    Job job = StageJobs.build(model, revision, Stage.FINETUNE, args, placement, settings);
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);
    Map<String, String> labels = StageJobs.labels(model, revision, Stage.FINETUNE);

    int workers = WorkerSet.workers(model, Stage.FINETUNE);
    List<String> trainerArgs = new java.util.ArrayList<>(container.getArgs());
    if (workers > 1) {
      // The same on every node: a runtime that does not say who each node is fails loudly
      // (no rank), where it would otherwise run as many whole fine-tunes into the same files.
      trainerArgs.addAll(List.of(io.sparserollout.stage.Cli.WORKERS, String.valueOf(workers)));
    }
    Map<String, Object> trainer = new LinkedHashMap<>();
    trainer.put("image", container.getImage());
    trainer.put("args", trainerArgs);
    trainer.put("env", container.getEnv());
    trainer.put("numNodes", workers);
    // One sparsify process per node: its threads use the node's cores.
    trainer.put("numProcPerNode", 1);
    trainer.put("resourcesPerNode", container.getResources());

    Map<String, Object> nodeContainer = new LinkedHashMap<>();
    nodeContainer.put("name", NODE);
    nodeContainer.put("volumeMounts", container.getVolumeMounts());
    nodeContainer.put("securityContext", container.getSecurityContext());
    Map<String, Object> podPatch = new LinkedHashMap<>();
    if (pod.getServiceAccountName() != null) {
      podPatch.put("serviceAccountName", pod.getServiceAccountName());
    }
    podPatch.put("volumes", pod.getVolumes());
    podPatch.put("containers", List.of(nodeContainer));
    podPatch.put("securityContext", pod.getSecurityContext());
    if (!placement.nodeSelector().isEmpty()) {
      podPatch.put("nodeSelector", placement.nodeSelector());
    }
    if (!placement.tolerations().isEmpty()) {
      podPatch.put("tolerations", placement.tolerations());
    }
    Map<String, Object> nodeJob =
        Map.of(
            "name",
            NODE,
            "template",
            Map.of(
                "metadata",
                Map.of("labels", labels),
                "spec",
                Map.of(
                    "template", Map.of("metadata", Map.of("labels", labels), "spec", podPatch))));
    Map<String, Object> patch =
        Map.of(
            "manager",
            MANAGER,
            "trainingRuntimeSpec",
            Map.of("template", Map.of("spec", Map.of("replicatedJobs", List.of(nodeJob)))));

    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put(
        "runtimeRef",
        Map.of("name", trainJob.runtimeName(), "apiGroup", GROUP, "kind", trainJob.kind()));
    spec.put("trainer", trainer);
    spec.put("runtimePatches", List.of(patch));
    spec.put("activeDeadlineSeconds", settings.deadline().toSeconds());

    Map<String, String> trainJobLabels = new LinkedHashMap<>(labels);
    if (trainJob.queueName() != null) {
      trainJobLabels.put(QUEUE_NAME, trainJob.queueName());
    }
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION)
        .withKind(KIND)
        .withNewMetadata()
        .withName(name(model, revision))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(trainJobLabels)
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", plain(spec)))
        .build();
  }

  /**
   * Whether {@code job} may be the {@code node} Job of this model's TrainJob for the revision:
   * labelled as the JobSet Trainer names after the TrainJob makes it, and controlled by a JobSet of
   * that name. Names can be copied: {@link #madeBy} checks the UIDs.
   */
  public static boolean runsFor(Job job, SparseModel model, String revision) {
    Map<String, String> labels = job.getMetadata().getLabels();
    String name = name(model, revision);
    if (labels == null
        || !name.equals(labels.get(JOBSET_NAME))
        || !NODE.equals(labels.get(REPLICATED_JOB))) {
      return false;
    }
    List<OwnerReference> owners = job.getMetadata().getOwnerReferences();
    return owners != null
        && owners.stream()
            .anyMatch(
                o ->
                    Boolean.TRUE.equals(o.getController())
                        && "JobSet".equals(o.getKind())
                        && name.equals(o.getName()));
  }

  /**
   * Whether the node Job was made by this TrainJob: its controller is {@code jobSet} (by UID),
   * whose controller is {@code trainJob} (by UID).
   */
  public static boolean madeBy(Job job, HasMetadata jobSet, HasMetadata trainJob) {
    return jobSet != null
        && trainJob != null
        && OwnedResources.controlledBy(job, jobSet.getMetadata().getUid())
        && OwnedResources.controlledBy(jobSet, trainJob.getMetadata().getUid());
  }

  /**
   * What an older Trainer's schema dropped from the TrainJob as stored (Trainer 2.0 and 2.1 serve
   * the same API without runtime patches), or null when it kept all the operator relies on.
   */
  public static String dropped(GenericKubernetesResource stored) {
    Object spec = stored.getAdditionalProperties().get("spec");
    if (!(spec instanceof Map<?, ?> fields)) {
      return "spec";
    }
    for (String field : List.of("runtimePatches", "activeDeadlineSeconds")) {
      if (!fields.containsKey(field)) {
        return "spec." + field;
      }
    }
    return null;
  }

  /** The fabric8 model objects as plain maps and lists, as a generic resource holds them. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> plain(Map<String, Object> spec) {
    return Serialization.jsonMapper().convertValue(spec, Map.class);
  }
}
