package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.placement.GpuPlacement;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageJobsTest {
  private final SparseModel model = Fixtures.minilm();
  private final JobSettings settings =
      new JobSettings("sparserollout/sparsify:test", 2, java.time.Duration.ofHours(2));

  @Test
  void pruneJobRunsSparseGptOnTheMountedClaims() {
    Job job = build(Stage.PRUNE, new GpuPlacement.OnCpu());
    Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(job.getMetadata().getName()).isEqualTo("minilm-cpu-" + revision() + "-prune");
    assertThat(job.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getController()).isTrue());
    assertThat(job.getSpec().getBackoffLimit()).isEqualTo(2);
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(7200L);
    assertThat(container.getArgs())
        .containsSubsequence("prune", "--method", "sparsegpt")
        .containsSubsequence("--model", "/mnt/models/all-minilm-l6-v2/model.onnx")
        .containsSubsequence(
            "--out", "/mnt/artifacts/sparserollout/ml/minilm-cpu/" + revision() + "/pruned.onnx")
        .containsSubsequence(
            "--calibration", "/mnt/models/data/calibration.txt", "--samples", "128")
        .endsWith("--json");
    assertThat(container.getEnv())
        .anySatisfy(e -> assertThat(e.getName()).isEqualTo("SPARSIFY_TERMINATION_LOG"));
    assertThat(container.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(container.getVolumeMounts())
        .extracting(m -> m.getMountPath())
        .containsExactly("/mnt/artifacts", "/mnt/models", "/tmp");
    // Only the artifact store (and scratch space) is written; the inputs' claim is read-only.
    assertThat(container.getVolumeMounts())
        .extracting(m -> m.getMountPath() + ":" + m.getReadOnly())
        .containsExactly("/mnt/artifacts:false", "/mnt/models:true", "/tmp:null");
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
  }

  @Test
  void gpuPlacementAddsTheResourceSelectorAndToleration() {
    var gpu =
        (GpuPlacement.OnGpu)
            GpuPlacement.decide(
                Fixtures.minilm(s -> s.with("engine").put("backend", "tensorrt"))
                    .getSpec()
                    .engine(),
                List.of(
                    new io.fabric8.kubernetes.api.model.NodeBuilder()
                        .withNewMetadata()
                        .withName("a100")
                        .addToLabels(GpuPlacement.PRODUCT, "NVIDIA-A100-SXM4-80GB")
                        .addToLabels(GpuPlacement.MAJOR, "8")
                        .addToLabels(GpuPlacement.MINOR, "0")
                        .endMetadata()
                        .withNewStatus()
                        .addToAllocatable(
                            "nvidia.com/gpu", new io.fabric8.kubernetes.api.model.Quantity("1"))
                        .endStatus()
                        .build()),
                java.util.Optional.empty());

    Job job = build(Stage.BUILD_ENGINE, gpu);
    var pod = job.getSpec().getTemplate().getSpec();

    assertThat(pod.getNodeSelector()).containsEntry(GpuPlacement.PRODUCT, "NVIDIA-A100-SXM4-80GB");
    assertThat(pod.getTolerations()).hasSize(1);
    assertThat(pod.getContainers().get(0).getResources().getLimits()).containsKey("nvidia.com/gpu");
  }

  @Test
  void anS3StoreIsPassedAsUrisWithCredentialsFromTheSecret() {
    SparseModel s3 =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://ml-artifacts/sparse/")
                    .put("endpoint", "http://minio.storage:9000")
                    .put("allowInsecureHttp", true)
                    .put("region", "eu-west-1")
                    .put("credentialsSecret", "store-keys"));
    String revision = Revision.of(s3.getSpec());
    var storage = new Storage(s3, revision);

    Job job =
        StageJobs.build(
            s3,
            revision,
            Stage.PRUNE,
            StageHandler.of(Stage.PRUNE)
                .args(new StageContext(s3, storage, Stage.plan(s3.getSpec()))),
            new GpuPlacement.OnCpu(),
            settings);
    Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(container.getArgs())
        .containsSubsequence(
            "--out", "s3://ml-artifacts/sparse/ml/minilm-cpu/" + revision + "/pruned.onnx");
    assertThat(container.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("AWS_SECRET_ACCESS_KEY");
              assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("store-keys");
            })
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("AWS_SESSION_TOKEN");
              assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).isTrue();
            })
        .anySatisfy(e -> assertThat(e.getValue()).isEqualTo("http://minio.storage:9000"))
        .anySatisfy(
            e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("AWS_REGION=eu-west-1"))
        .anySatisfy(
            e ->
                assertThat(e.getName() + "=" + e.getValue())
                    .isEqualTo("SPARSIFY_S3_ALLOW_HTTP=true"));
    assertThat(job.getSpec().getTemplate().getSpec().getServiceAccountName()).isNull();
    assertThat(storage.artifactUri("engine"))
        .isEqualTo("s3://ml-artifacts/sparse/ml/minilm-cpu/" + revision + "/engine");
    // The model itself still comes from its PVC: only that claim is mounted.
    assertThat(container.getVolumeMounts())
        .extracting(m -> m.getMountPath())
        .containsExactly("/mnt/models", "/tmp");
  }

  @Test
  void aStoreReachedThroughAServiceAccountRunsTheStageAsItWithoutKeys() {
    SparseModel s3 =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://ml-artifacts/sparse/")
                    .put("serviceAccountName", "model-store-reader"));
    String revision = Revision.of(s3.getSpec());

    Job job =
        StageJobs.build(
            s3,
            revision,
            Stage.PRUNE,
            StageHandler.of(Stage.PRUNE)
                .args(new StageContext(s3, new Storage(s3, revision), Stage.plan(s3.getSpec()))),
            new GpuPlacement.OnCpu(),
            settings);
    var pod = job.getSpec().getTemplate().getSpec();

    assertThat(pod.getServiceAccountName()).isEqualTo("model-store-reader");
    // IRSA and Pod Identity mount their own token; the API token stays out.
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getContainers().get(0).getEnv())
        .extracting(e -> e.getName())
        .doesNotContain("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SPARSIFY_S3_ALLOW_HTTP");
  }

  @Test
  void longNamesAreCutToALabelValue() {
    SparseModel longName = Fixtures.minilm();
    longName.getMetadata().setName("a".repeat(80));

    assertThat(StageJobs.name(longName, "0123456789", Stage.EVALUATE))
        .hasSize(63)
        .endsWith("-0123456789-evaluate");
  }

  @Test
  void twoLongNamesSharingTheirBeginningNeverShareAJob() {
    SparseModel first = Fixtures.minilm();
    first.getMetadata().setName("m".repeat(55) + "-first");
    SparseModel second = Fixtures.minilm();
    second.getMetadata().setName("m".repeat(55) + "-second");
    SparseModel shortName = Fixtures.minilm();

    assertThat(StageJobs.name(first, "0123456789", Stage.EVALUATE))
        .hasSize(63)
        .isNotEqualTo(StageJobs.name(second, "0123456789", Stage.EVALUATE));
    assertThat(StageJobs.name(shortName, "0123456789", Stage.EVALUATE))
        .isEqualTo("minilm-cpu-0123456789-evaluate");
  }

  @Test
  void aRequestAboveTheDefaultLimitRaisesThatLimitInsteadOfMakingAPodTheClusterRefuses() {
    SparseModel model =
        Fixtures.minilm(
            s ->
                s.with("fineTuning")
                    .with("resources")
                    .with("requests")
                    .put("memory", "16Gi")
                    .put("cpu", "4"));

    Job job =
        StageJobs.build(
            model, "r", Stage.FINETUNE, List.of("finetune"), new GpuPlacement.OnCpu(), settings);
    Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(container.getResources().getRequests().get("memory").toString()).isEqualTo("16Gi");
    assertThat(container.getResources().getLimits().get("memory").toString()).isEqualTo("16Gi");
  }

  @Test
  void evaluationWithoutItsOwnDataSkipsTheCalibrationSentences() {
    SparseModel model = Fixtures.minilm(s -> s.with("evaluation").remove("dataUri"));
    var storage = new Storage(model, "r");

    List<String> args =
        StageHandler.of(Stage.EVALUATE)
            .args(new StageContext(model, storage, Stage.plan(model.getSpec())));

    assertThat(args)
        .containsSubsequence("--data", "/mnt/models/data/calibration.txt")
        .containsSubsequence("--offset", "128");
  }

  @Test
  void capturedSamplesCalibrateAndTheirOtherHalfIsHeldOut() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("rollout").with("capture").put("enabled", true);
              s.with("sparsity").with("calibration").put("source", "captured");
              s.with("evaluation").remove("dataUri");
            });
    var context = new StageContext(model, new Storage(model, "r"), Stage.plan(model.getSpec()));
    String folder =
        "/mnt/artifacts/sparserollout/"
            + model.getMetadata().getNamespace()
            + "/minilm-cpu/captured";

    assertThat(StageHandler.of(Stage.PRUNE).args(context))
        .containsSubsequence("--calibration", folder)
        .containsSubsequence("--captured-part", "calibration");
    assertThat(StageHandler.of(Stage.EVALUATE).args(context))
        .containsSubsequence("--data", folder)
        .containsSubsequence("--captured-part", "held-out")
        .doesNotContain("--offset");

    // Calibrated on a file, evaluated on what was served: all captured samples are held out.
    SparseModel served =
        Fixtures.minilm(
            s -> {
              s.with("rollout").with("capture").put("enabled", true);
              s.with("evaluation").put("source", "captured");
            });
    var servedContext =
        new StageContext(served, new Storage(served, "r"), Stage.plan(served.getSpec()));
    assertThat(StageHandler.of(Stage.PRUNE).args(servedContext))
        .containsSubsequence("--calibration", "/mnt/models/data/calibration.txt")
        .doesNotContain("--captured-part");
    assertThat(StageHandler.of(Stage.EVALUATE).args(servedContext))
        .containsSubsequence("--data", folder)
        .containsSubsequence("--captured-part", "held-out");
  }

  @Test
  void aRankersPairsAreReadAsPairsByEveryStageThatTokenizesAndByNoOtherModels() {
    SparseModel ranker =
        Fixtures.minilm(
            s -> {
              s.with("source").put("task", "ranking");
              s.with("quantization").put("mode", "int8-ptq");
            });
    SparseModel embedding = Fixtures.minilm(s -> s.with("quantization").put("mode", "int8-ptq"));
    var rankerContext =
        new StageContext(ranker, new Storage(ranker, "r"), Stage.plan(ranker.getSpec()));
    var embeddingContext =
        new StageContext(embedding, new Storage(embedding, "r"), Stage.plan(embedding.getSpec()));

    for (Stage stage : List.of(Stage.PRUNE, Stage.QUANTIZE, Stage.EVALUATE)) {
      assertThat(StageHandler.of(stage).args(rankerContext))
          .as(stage.name())
          .containsSubsequence("--task", "ranking");
      assertThat(StageHandler.of(stage).args(embeddingContext))
          .as(stage.name())
          .doesNotContain("--task");
    }
    // Fine-tuning is told every task: it distils what the task compares.
    SparseModel tunedRanker =
        Fixtures.minilm(
            s -> {
              s.with("source").put("task", "ranking");
              s.with("sparsity").put("method", "finetune");
            });
    SparseModel tunedEmbedding = Fixtures.minilm(s -> s.with("sparsity").put("method", "finetune"));
    for (SparseModel tuned : List.of(tunedRanker, tunedEmbedding)) {
      var context = new StageContext(tuned, new Storage(tuned, "r"), Stage.plan(tuned.getSpec()));
      assertThat(StageHandler.of(Stage.FINETUNE).args(context))
          .containsSubsequence(
              "--task", tuned == tunedRanker ? "ranking" : "embedding", "--report");
    }
  }

  @Test
  void aClassifierIsEvaluatedOnItsClassesAndGatedOnTopOneAgreement() {
    SparseModel classifier =
        Fixtures.minilm(
            s -> {
              s.with("source").put("task", "classification");
              s.with("gate").put("metric", "top1-agreement");
            });
    SparseModel embedding = Fixtures.minilm();

    assertThat(
            StageHandler.of(Stage.EVALUATE)
                .args(
                    new StageContext(
                        classifier,
                        new Storage(classifier, "r"),
                        Stage.plan(classifier.getSpec()))))
        .containsSubsequence("--task", "classification");
    assertThat(
            StageHandler.of(Stage.EVALUATE)
                .args(
                    new StageContext(
                        embedding, new Storage(embedding, "r"), Stage.plan(embedding.getSpec()))))
        .doesNotContain("--task");
    var set =
        new io.sparserollout.stage.EvaluationResult.SetQuality(
            null,
            300,
            new io.sparserollout.stage.EvaluationResult.Fidelity(0.89, 0.5, 0.7, 0.63, 0.75),
            null,
            null,
            null);
    assertThat(
            EvaluateStage.metric(io.sparserollout.api.v1alpha1.GateSpec.Metric.TOP1_AGREEMENT, set))
        .containsExactly(1.0, 0.63);
  }

  @Test
  void aModelOfRawOutputsIsEvaluatedOutputByOutputAndGatedOnItsWorstOutputsCosine() {
    SparseModel raw =
        Fixtures.minilm(
            s -> {
              s.with("source").remove("tokenizerUri");
              s.with("source").put("task", "tensor");
              s.with("sparsity").with("calibration").put("dataUri", "pvc://models/cal.npz");
              s.with("evaluation").put("dataUri", "pvc://models/eval.npz");
            });

    assertThat(
            StageHandler.of(Stage.EVALUATE)
                .args(new StageContext(raw, new Storage(raw, "r"), Stage.plan(raw.getSpec()))))
        .containsSubsequence("--task", "tensor");
    var set =
        new io.sparserollout.stage.EvaluationResult.SetQuality(
            null,
            300,
            new io.sparserollout.stage.EvaluationResult.Fidelity(
                0.91,
                0.5,
                0.7,
                null,
                null,
                List.of(
                    new io.sparserollout.stage.EvaluationResult.OutputFidelity(
                        "maps", 0.91, 0.5, 0.7, 0.9),
                    new io.sparserollout.stage.EvaluationResult.OutputFidelity(
                        "boxes", 0.99, 0.9, 0.95, 0.1))),
            null,
            null,
            null);
    assertThat(
            EvaluateStage.metric(
                io.sparserollout.api.v1alpha1.GateSpec.Metric.COSINE_FIDELITY, set))
        .containsExactly(1.0, 0.91);
  }

  @Test
  void mixedCalibrationReadsTheFileAndTheCapturedCalibrationHalf() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("rollout").with("capture").put("enabled", true);
              s.with("sparsity").with("calibration").put("source", "mixed");
              s.with("quantization").put("mode", "int8-ptq");
            });
    var context = new StageContext(model, new Storage(model, "r"), Stage.plan(model.getSpec()));
    String folder =
        "/mnt/artifacts/sparserollout/"
            + model.getMetadata().getNamespace()
            + "/minilm-cpu/captured";

    for (Stage stage : List.of(Stage.PRUNE, Stage.QUANTIZE)) {
      assertThat(StageHandler.of(stage).args(context))
          .containsSubsequence("--calibration", "/mnt/models/data/calibration.txt")
          .containsSubsequence("--also-captured", folder)
          .containsSubsequence("--captured-part", "calibration");
    }
  }

  @Test
  void fineTuningStartsFromThePrunedModelUnlessASchedulePrunesTheDenseOne() {
    SparseModel plain = Fixtures.minilm(s -> s.with("sparsity").put("method", "finetune"));
    SparseModel labelled =
        Fixtures.minilm(
            s -> {
              s.with("sparsity").put("method", "finetune");
              s.with("fineTuning")
                  .put("distillation", false)
                  .put("labelsUri", "pvc://models/data/labels.txt");
            });
    SparseModel progressive =
        Fixtures.minilm(
            s -> {
              s.with("sparsity").putArray("progressiveSteps").add("1:4").add("2:4");
              s.with("sparsity").with("layers").putArray("exclude").add("pooler");
              s.with("quantization").put("mode", "int8-qat");
            });

    List<String> fromPruned = fineTuneArgs(plain);
    List<String> fromDense = fineTuneArgs(progressive);

    assertThat(fromPruned)
        .contains("--init")
        .doesNotContain("--progressive", "--qat", "--labels", "--no-distillation");
    assertThat(fineTuneArgs(labelled))
        .containsSubsequence("--labels", "/mnt/models/data/labels.txt")
        .contains("--no-distillation");
    assertThat(fromDense)
        .doesNotContain("--init")
        .contains("--progressive")
        .contains("--exclude=pooler")
        .containsSubsequence("--qat", "int8");
  }

  private static List<String> fineTuneArgs(SparseModel model) {
    return StageHandler.of(Stage.FINETUNE)
        .args(new StageContext(model, new Storage(model, "r"), Stage.plan(model.getSpec())));
  }

  private Job build(Stage stage, GpuPlacement.Decision placement) {
    var storage = new Storage(model, revision());
    return StageJobs.build(
        model,
        revision(),
        stage,
        StageHandler.of(stage).args(new StageContext(model, storage, Stage.plan(model.getSpec()))),
        placement,
        settings);
  }

  private String revision() {
    return Revision.of(model.getSpec());
  }
}
