package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.api.v1alpha1.ArtifactStore;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.StageProgress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Desired stage Jobs: pure functions of the resource, its revision and the placement. */
public final class StageJobs {
  public static final String MODEL_LABEL = "sparserollout.io/model";
  public static final String REVISION_LABEL = "sparserollout.io/revision";
  public static final String STAGE_LABEL = "sparserollout.io/stage";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String OPERATOR = "sparserollout-operator";
  public static final String TERMINATION_LOG = "/dev/termination-log";

  private StageJobs() {}

  /** Deterministic, so a restarted operator finds (and never duplicates) the Job. */
  public static String name(SparseModel model, String revision, Stage stage) {
    return OwnedResources.name(model, "-" + revision + "-" + stage.jobSuffix());
  }

  public static Map<String, String> labels(SparseModel model, String revision, Stage stage) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, OPERATOR);
    labels.put(MODEL_LABEL, model.getMetadata().getName());
    labels.put(REVISION_LABEL, revision);
    labels.put(STAGE_LABEL, stage.jobSuffix());
    return labels;
  }

  public static Job build(
      SparseModel model,
      String revision,
      Stage stage,
      List<String> args,
      GpuPlacement.Decision placement,
      JobSettings settings) {
    Map<String, String> labels = labels(model, revision, stage);
    PodVolumes storage = PodVolumes.forStage(model);

    ResourceRequirements resources = resources(model, stage);
    placement.requestGpu(resources);
    return new JobBuilder()
        .withNewMetadata()
        .withName(name(model, revision, stage))
        .withNamespace(model.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(OwnedResources.ownedBy(model))
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(settings.backoffLimit())
        // A stage blocked or hung for longer fails, naming DeadlineExceeded, instead of hanging.
        .withActiveDeadlineSeconds(settings.deadline().toSeconds())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withNodeSelector(placement.nodeSelector())
        .withAffinity(placement.affinity())
        .withTolerations(placement.tolerations())
        .withSecurityContext(PodSecurity.pod())
        // Neither stages nor inference pods talk to the API server.
        .withAutomountServiceAccountToken(false)
        .withServiceAccountName(serviceAccount(model))
        .withVolumes(storage.volumes())
        .withContainers(
            new ContainerBuilder()
                .withName("sparsify")
                .withImage(settings.image())
                .withArgs(args)
                .withEnv(env(model, stage))
                .withPorts(ports(stage))
                .withTerminationMessagePath(TERMINATION_LOG)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withResources(resources)
                .withVolumeMounts(storage.mounts())
                .withSecurityContext(PodSecurity.container())
                .build())
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The stage's Jobs: one, or one per worker where several run it ({@link WorkerSet}), worker 0
   * first.
   */
  public static List<Job> forStage(
      StageContext stages,
      String revision,
      Stage stage,
      GpuPlacement.Decision placement,
      JobSettings settings) {
    SparseModel model = stages.model();
    if (WorkerSet.workers(model, stage) > 1) {
      return WorkerSet.jobs(
          model, revision, stage, new FineTuneStage().command(stages), placement, settings);
    }
    return List.of(
        build(model, revision, stage, StageHandler.of(stage).args(stages), placement, settings));
  }

  /** A stage's environment: fine-tuning also serves its progress ({@link ProgressReader}). */
  static List<EnvVar> env(SparseModel model, Stage stage) {
    List<EnvVar> env = env(model);
    if (stage == Stage.FINETUNE) {
      env.add(new EnvVar(StageProgress.PORT_ENV, String.valueOf(ProgressReader.PORT), null));
    }
    return env;
  }

  private static List<ContainerPort> ports(Stage stage) {
    return stage == Stage.FINETUNE
        ? new ArrayList<>(
            List.of(
                new ContainerPortBuilder()
                    .withName("progress")
                    .withContainerPort(ProgressReader.PORT)
                    .build()))
        : new ArrayList<>();
  }

  /** The termination-log file, and S3 credentials from the spec's Secret when S3 is used. */
  public static List<EnvVar> env(SparseModel model) {
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar(Cli.TERMINATION_LOG_ENV, TERMINATION_LOG, null));
    if (Storage.usesS3(model)) {
      String secret = model.getSpec().artifactStore().credentialsSecret();
      if (secret != null) {
        for (String key :
            List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")) {
          boolean optional = key.equals("AWS_SESSION_TOKEN");
          env.add(
              new EnvVarBuilder()
                  .withName(key)
                  .withNewValueFrom()
                  .withNewSecretKeyRef(key, secret, optional)
                  .endValueFrom()
                  .build());
        }
      }
      ArtifactStore store = model.getSpec().artifactStore();
      if (store.endpoint() != null && !store.endpoint().isBlank()) {
        env.add(new EnvVar("SPARSIFY_S3_ENDPOINT", store.endpoint(), null));
      }
      if (Boolean.TRUE.equals(store.allowInsecureHttp())) {
        env.add(new EnvVar("SPARSIFY_S3_ALLOW_HTTP", "true", null));
      }
      if (store.region() != null) {
        env.add(new EnvVar("AWS_REGION", store.region(), null));
      }
    }
    return env;
  }

  /** The store's ServiceAccount where S3 is used (web or pod identity), else the default. */
  public static String serviceAccount(SparseModel model) {
    return Storage.usesS3(model) ? model.getSpec().artifactStore().serviceAccountName() : null;
  }

  private static ResourceRequirements resources(SparseModel model, Stage stage) {
    return OwnedResources.resources(
        Map.of("cpu", new Quantity("1"), "memory", new Quantity("4Gi")),
        Map.of("memory", new Quantity("8Gi")),
        stage == Stage.FINETUNE ? model.getSpec().fineTuning().resources() : null);
  }
}
