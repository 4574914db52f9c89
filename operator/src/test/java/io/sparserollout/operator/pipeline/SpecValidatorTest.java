package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.operator.Fixtures;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
  @Test
  void theSampleIsValid() {
    assertThat(SpecValidator.problems(Fixtures.minilm().getSpec())).isEmpty();
  }

  @Test
  void crossFieldProblemsNameTheirField() {
    var model =
        Fixtures.minilm(
            spec -> {
              spec.with("engine").with("shapes").put("minBatch", 64);
              spec.with("engine").put("backend", "tensorrt").put("precision", "int8");
              spec.with("sparsity").putArray("progressiveSteps").add("2:4").add("1:4");
              spec.with("sparsity").with("layers").putArray("exclude").add("([");
              spec.with("gate").put("metric", "ndcg");
              spec.with("artifactStore").put("uri", "s3://bucket/prefix");
              spec.with("rollout").put("trafficMode", "gateway-api");
            });

    assertThat(SpecValidator.problems(model.getSpec()))
        .anyMatch(p -> p.startsWith("spec.engine.shapes: minBatch"))
        .anyMatch(p -> p.startsWith("spec.engine.precision: int8 needs explicit Q/DQ"))
        .anyMatch(p -> p.startsWith("spec.sparsity.progressiveSteps"))
        .anyMatch(p -> p.startsWith("spec.sparsity.layers.exclude"))
        .anyMatch(p -> p.startsWith("spec.evaluation.labelsUri"))
        .anyMatch(p -> p.startsWith("spec.artifactStore.credentialsSecret: required for s3://"))
        .anyMatch(p -> p.startsWith("spec.rollout.gateway: required by trafficMode gateway-api"))
        .hasSize(7);
  }

  @Test
  void aClassifierIsRefusedRankingMetricsAndATaskLossWithTheReason() {
    var ranked =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "classification");
              spec.with("gate").put("metric", "ndcg");
              spec.with("evaluation").put("labelsUri", "pvc://models/data/labels.txt");
            });
    var finetuned =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "classification");
              spec.with("sparsity").put("method", "finetune");
            });
    var labelled =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "classification");
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").put("labelsUri", "pvc://models/data/labels.txt");
            });
    var gated =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "classification");
              spec.with("gate").put("metric", "top1-agreement");
            });

    assertThat(SpecValidator.problems(ranked.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.gate.metric: \"ndcg\" ranks embeddings")
        .contains("accuracy, top1-agreement");
    var undistilled =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "classification");
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").put("distillation", false);
            });
    assertThat(SpecValidator.problems(undistilled.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.fineTuning.distillation: a classifier");
    // Distilling the logits is how a classifier is fine-tuned; a task loss is not built yet.
    assertThat(SpecValidator.problems(finetuned.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(labelled.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.fineTuning.labelsUri: a classifier")
        .contains("not yet for classifiers");
    assertThat(SpecValidator.problems(gated.getSpec())).isEmpty();
  }

  @Test
  void aRankerIsGatedOnRankingMetricsFineTunedOnItsScoresButNotEvaluatedOnCapturedRequests() {
    var gated =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "ranking");
              spec.with("gate").put("metric", "ndcg");
              spec.with("evaluation").put("labelsUri", "pvc://models/data/grades.txt");
            });
    var finetuned =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "ranking");
              spec.with("quantization").put("mode", "int8-qat");
            });
    var labelled =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "ranking");
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").put("labelsUri", "pvc://models/data/grades.txt");
            });
    var undistilled =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "ranking");
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").put("distillation", false);
            });
    var captured =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("task", "ranking");
              spec.with("evaluation").put("source", "captured").remove("dataUri");
              spec.with("rollout").with("capture").put("fraction", 0.5);
            });

    assertThat(SpecValidator.problems(gated.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(finetuned.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(labelled.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.fineTuning.labelsUri: a ranker")
        .contains("distilling the dense model's scores");
    assertThat(SpecValidator.problems(undistilled.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.fineTuning.distillation: a ranker");
    assertThat(SpecValidator.problems(captured.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.evaluation.source: a ranker")
        .contains("query<TAB>document");
  }

  @Test
  void moreWorkersThanRowsInABatchIsRefused() {
    var model =
        Fixtures.minilm(spec -> spec.with("fineTuning").put("workers", 4).put("batchSize", 2));

    assertThat(SpecValidator.problems(model.getSpec()))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith("spec.fineTuning.workers: 4 workers")
                    .endsWith("must be at least 4, got 2"));
  }

  @Test
  void aPlainHttpStoreEndpointIsRefusedUnlessTheSpecAllowsIt() {
    var plain =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://bucket/prefix")
                    .put("credentialsSecret", "keys")
                    .put("endpoint", "http://minio.storage:9000"));
    var allowed =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://bucket/prefix")
                    .put("credentialsSecret", "keys")
                    .put("endpoint", "http://minio.storage:9000")
                    .put("allowInsecureHttp", true));
    var notAUrl =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://bucket/prefix")
                    .put("credentialsSecret", "keys")
                    .put("endpoint", "file:///etc/passwd"));

    assertThat(SpecValidator.problems(plain.getSpec()))
        .containsExactly(
            "spec.artifactStore.endpoint: plain http sends credentials and artifacts in clear; use"
                + " https, or set spec.artifactStore.allowInsecureHttp: true");
    assertThat(SpecValidator.problems(allowed.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(notAUrl.getSpec()))
        .containsExactly("spec.artifactStore.endpoint: must be an https:// URL with a host");
  }

  @Test
  void aServiceAccountStandsInForTheCredentialsSecret() {
    var irsa =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://bucket/prefix")
                    .put("serviceAccountName", "model-store")
                    .put("region", "eu-west-1"));
    var bad =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://bucket/prefix")
                    .put("serviceAccountName", "Model_Store")
                    .put("region", "Europe West"));

    assertThat(SpecValidator.problems(irsa.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(bad.getSpec()))
        .anyMatch(p -> p.startsWith("spec.artifactStore.serviceAccountName: must be"))
        .anyMatch(p -> p.startsWith("spec.artifactStore.region: must be"))
        .hasSize(2);
  }

  @Test
  void namesDurationsAndQuantitiesTheClusterWouldRefuseAreSpecProblems() {
    var model =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").put("progressDeadline", "99999999999999999999s");
              spec.with("rollout").with("analysis").put("interval", "9000h");
              spec.with("rollout").with("resources").with("requests").put("memory", "lots");
            });
    model.getMetadata().setName("1st.model");

    assertThat(SpecValidator.problems(model))
        .containsExactlyInAnyOrder(
            "metadata.name: must be a DNS-1035 label (lower-case letters, digits and '-', starting"
                + " with a letter, at most 63 characters): the model's Service is named after it",
            "spec.rollout.progressDeadline: 99999999999999999999s is not a duration this operator"
                + " can use",
            "spec.rollout.analysis.interval: 9000h is longer than a year",
            "spec.rollout.resources.memory: lots is not a quantity");
    assertThat(SpecValidator.problems(Fixtures.minilm())).isEmpty();
  }

  @Test
  void locationsMustStayInsideTheirClaimOrBucket() {
    var model =
        Fixtures.minilm(
            spec -> {
              spec.with("source").put("uri", "pvc://models/../other/model.onnx");
              spec.with("evaluation").put("labelsUri", "pvc://../labels.txt");
              spec.with("artifactStore").put("uri", "s3://bucket/a/../../b");
              spec.with("artifactStore").put("credentialsSecret", "s3");
            });

    assertThat(SpecValidator.problems(model.getSpec()))
        .containsExactlyInAnyOrder(
            "spec.source.uri: a \"..\" segment would leave the claim or bucket",
            "spec.evaluation.labelsUri: the claim \"..\" is not a PersistentVolumeClaim name"
                + " (DNS-1123)",
            "spec.artifactStore.uri: a \"..\" segment would leave the claim or bucket");
  }

  @Test
  void aFreePrometheusUrlIsRefusedInFavourOfAnAllowedProviderName() {
    var model =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("analysis")
                    .put("prometheusUrl", "http://169.254.169.254/latest/meta-data"));

    assertThat(SpecValidator.problems(model.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.rollout.analysis.prometheusUrl: no longer accepted")
        .contains("spec.rollout.analysis.prometheus");
  }

  @Test
  void aRequestAboveItsOwnLimitIsRefusedNamingBoth() {
    var model =
        Fixtures.minilm(
            spec -> {
              var resources = spec.with("fineTuning").with("resources");
              resources.with("requests").put("memory", "16Gi");
              resources.with("limits").put("memory", "8Gi");
            });

    assertThat(SpecValidator.problems(model.getSpec()))
        .containsExactly(
            "spec.fineTuning.resources.requests.memory: 16Gi is above its limit 8Gi (the cluster"
                + " refuses such a pod)");
  }

  @Test
  void gatewayHostNamesMustBeHostNames() {
    var model =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("gateway")
                    .put("name", "inference")
                    .putArray("hostnames")
                    .add("models.example.com")
                    .add("*.example.com")
                    .add("Not A Host"));

    assertThat(SpecValidator.problems(model.getSpec()))
        .containsExactly(
            "spec.rollout.gateway.hostnames: Not A Host is not a host name (DNS-1123 subdomain,"
                + " optionally starting with \"*.\")");
  }

  @Test
  void theGrpcListenerMustBeAnotherThanTheHttpRoutesAndABudgetMustLeaveRoomForACanary() {
    var shared =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("gateway")
                    .put("name", "g")
                    .put("grpcSectionName", "grpc"));
    var apart =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("gateway")
                    .put("name", "g")
                    .put("sectionName", "http")
                    .put("grpcSectionName", "grpc"));
    var noRoom =
        Fixtures.minilm(spec -> spec.with("rollout").put("replicas", 1).put("maxExtraReplicas", 0));
    var routedWithoutRoom =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").put("trafficMode", "gateway-api").put("maxExtraReplicas", 0);
              spec.with("rollout").put("replicas", 4).with("gateway").put("name", "g");
            });

    assertThat(SpecValidator.problems(shared.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.rollout.gateway.grpcSectionName: needs spec.rollout.gateway.sectionName");
    assertThat(SpecValidator.problems(apart.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(routedWithoutRoom.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.rollout.maxExtraReplicas: 0 with trafficMode gateway-api");
    assertThat(SpecValidator.problems(noRoom.getSpec()))
        .containsExactly(
            "spec.rollout.maxExtraReplicas: 0 with 1 replica leaves no room for a canary pod"
                + " beside the stable's (replicas + maxExtraReplicas must be at least 2)");
  }

  @Test
  void autoscalingNeedsOrderedBoundsAndRoomForACanaryAtItsFewestReplicas() {
    var inverted =
        Fixtures.minilm(
            spec ->
                spec.with("rollout")
                    .with("autoscaling")
                    .put("minReplicas", 5)
                    .put("maxReplicas", 2));
    var fine =
        Fixtures.minilm(spec -> spec.with("rollout").with("autoscaling").put("maxReplicas", 4));
    // replicas 3 passes on its own, but the HPA may set 1: no room then.
    var noRoomAtTheFewest =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").put("replicas", 3).put("maxExtraReplicas", 0);
              spec.with("rollout").with("autoscaling").put("minReplicas", 1).put("maxReplicas", 4);
            });

    assertThat(SpecValidator.problems(inverted.getSpec()))
        .containsExactly("spec.rollout.autoscaling: minReplicas 5 is above maxReplicas 2");
    assertThat(SpecValidator.problems(fine.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(noRoomAtTheFewest.getSpec()))
        .containsExactly(
            "spec.rollout.maxExtraReplicas: 0 with 1 replica (autoscaling.minReplicas) leaves no"
                + " room for a canary pod beside the stable's (replicas + maxExtraReplicas must be"
                + " at least 2)");
  }

  @Test
  void fineTuningWithoutDistillationNeedsLabels() {
    var unlabelled =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning").put("distillation", false);
            });
    var labelled =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("fineTuning")
                  .put("distillation", false)
                  .put("labelsUri", "pvc://models/data/labels.txt");
            });
    var notFineTuned = Fixtures.minilm(spec -> spec.with("fineTuning").put("distillation", false));

    assertThat(SpecValidator.problems(unlabelled.getSpec()))
        .containsExactly(
            "spec.fineTuning.labelsUri: required when spec.fineTuning.distillation is false (the"
                + " task loss from labels is then the only loss)");
    assertThat(SpecValidator.problems(labelled.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(notFineTuned.getSpec())).isEmpty();
  }

  @Test
  void sparseGptWithoutCalibrationDataIsRejected() {
    var model =
        Fixtures.minilm(spec -> spec.with("sparsity").with("calibration").remove("dataUri"));

    assertThat(SpecValidator.problems(model.getSpec()))
        .containsExactly(
            "spec.sparsity.calibration.dataUri: required by method \"sparsegpt\" and quantization"
                + " mode \"none\"");
  }

  @Test
  void captureNeedsAClaimStoreAndAtLeastAnHourOfRetention() {
    var s3 =
        Fixtures.minilm(
            spec -> {
              spec.with("artifactStore")
                  .put("uri", "s3://bucket/prefix")
                  .put("credentialsSecret", "store");
              spec.with("rollout").with("capture").put("enabled", true);
            });
    assertThat(SpecValidator.problems(s3.getSpec()))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("spec.rollout.capture: needs a pvc://"));

    var brief =
        Fixtures.minilm(spec -> spec.with("rollout").with("capture").put("retention", "30m"));
    assertThat(SpecValidator.problems(brief.getSpec()))
        .containsExactly(
            "spec.rollout.capture.retention: 30m is under an hour; samples are kept and deleted"
                + " by whole clock hours");

    var fine = Fixtures.minilm(spec -> spec.with("rollout").with("capture").put("enabled", true));
    assertThat(SpecValidator.problems(fine.getSpec())).isEmpty();
  }

  @Test
  void capturedSamplesNeedCaptureOnAndCannotTrainOrCarryLabels() {
    var nothingCaptured =
        Fixtures.minilm(
            spec -> spec.with("sparsity").with("calibration").put("source", "captured"));
    assertThat(SpecValidator.problems(nothingCaptured.getSpec()))
        .containsExactly(
            "spec.sparsity.calibration.source: captured, but nothing is captured for this model;"
                + " set spec.rollout.capture");

    var training =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("sparsity").put("method", "finetune");
              spec.with("sparsity").with("calibration").put("source", "captured");
            });
    assertThat(SpecValidator.problems(training.getSpec()))
        .anyMatch(p -> p.startsWith("spec.sparsity.calibration.source: fine-tuning"));

    var labelled =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("evaluation")
                  .put("source", "captured")
                  .put("labelsUri", "pvc://m/l.txt")
                  .remove("dataUri");
            });
    assertThat(SpecValidator.problems(labelled.getSpec()))
        .anyMatch(p -> p.startsWith("spec.evaluation.labelsUri: captured samples have no labels"));

    var fine =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("sparsity").with("calibration").put("source", "captured");
              spec.with("evaluation").put("source", "captured").remove("dataUri");
            });
    assertThat(SpecValidator.problems(fine.getSpec())).isEmpty();

    // No file at all: every sample is captured.
    var capturedOnly =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("sparsity").with("calibration").put("source", "captured").remove("dataUri");
              spec.with("evaluation").remove("dataUri");
            });
    assertThat(SpecValidator.problems(capturedOnly.getSpec())).isEmpty();

    var mixedWithoutFile =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("sparsity").with("calibration").put("source", "mixed").remove("dataUri");
              spec.with("evaluation").put("source", "mixed");
            });
    assertThat(SpecValidator.problems(mixedWithoutFile.getSpec()))
        .contains(
            "spec.sparsity.calibration.dataUri: required by source mixed (half the samples come"
                + " from it)",
            "spec.evaluation.source: mixed is for calibration; evaluation reads file or captured");

    var fileIgnored =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("evaluation").put("source", "captured");
            });
    assertThat(SpecValidator.problems(fileIgnored.getSpec()))
        .containsExactly(
            "spec.evaluation.dataUri: unused with source captured; remove it, or evaluate on the"
                + " file (source file)");

    var taskGate =
        Fixtures.minilm(
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("evaluation").put("source", "captured").remove("dataUri");
              spec.with("gate").put("metric", "accuracy");
            });
    assertThat(SpecValidator.problems(taskGate.getSpec()))
        .containsExactly(
            "spec.gate.metric: \"accuracy\" needs labels, and the captured samples evaluation holds"
                + " out have none; gate on cosine-fidelity, top1-agreement or topk-agreement, or"
                + " evaluate on a labelled file");
  }

  @Test
  void aPlanThatFineTunesIsNotEvaluatedOnTheFileItTrainsOn() {
    var tuned =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").put("method", "finetune");
              spec.with("evaluation").remove("dataUri");
            });
    assertThat(SpecValidator.problems(tuned.getSpec()))
        .containsExactly(
            "spec.evaluation.dataUri: required by a plan that fine-tunes (method finetune, int8-qat"
                + " or progressiveSteps): it trains on the calibration file, so none of that file"
                + " is held out");
    var withItsOwnFile = Fixtures.minilm(spec -> spec.with("sparsity").put("method", "finetune"));
    assertThat(SpecValidator.problems(withItsOwnFile.getSpec())).isEmpty();
  }

  @Test
  void aDriftWindowThatIsNoDurationIsRefused() {
    var model =
        Fixtures.minilm(spec -> spec.with("rollout").with("analysis").put("driftWindow", "9000h"));
    assertThat(SpecValidator.problems(model.getSpec()))
        .anyMatch(p -> p.startsWith("spec.rollout.analysis.driftWindow: "));
  }

  @Test
  void aModelOfTensorsNeedsNoTokenizerButIsRefusedWhatReadsText() {
    var tensors = tensors("classification", spec -> {});
    var text =
        Fixtures.minilm(
            spec -> {
              spec.with("source").remove("tokenizerUri");
              spec.with("source").put("task", "classification");
            });
    var embedding =
        Fixtures.minilm(
            spec -> {
              spec.with("source").remove("tokenizerUri");
              spec.with("sparsity")
                  .with("calibration")
                  .put("dataUri", "pvc://models/data/calibration.npz");
              spec.with("evaluation").put("dataUri", "pvc://models/data/evaluation.npz");
              spec.with("sparsity").put("method", "finetune");
            });

    assertThat(SpecValidator.problems(tensors.getSpec())).isEmpty();
    assertThat(SpecValidator.problems(text.getSpec()))
        .anyMatch(p -> p.startsWith("spec.sparsity.calibration.dataUri: a text file needs"))
        .anyMatch(p -> p.startsWith("spec.evaluation.dataUri: a text file needs"))
        .hasSize(2);
    assertThat(SpecValidator.problems(embedding.getSpec()))
        .anyMatch(p -> p.startsWith("spec.source.task: embedding reads text"))
        .noneMatch(p -> p.startsWith("spec.fineTuning"));
    // Fine-tuned as a classifier, by distillation on the calibration tensors.
    var tuned =
        Fixtures.minilm(
            spec -> {
              spec.with("source").remove("tokenizerUri");
              spec.with("source").put("task", "classification");
              spec.with("sparsity")
                  .with("calibration")
                  .put("dataUri", "pvc://models/data/calibration.npz");
              spec.with("evaluation").put("dataUri", "pvc://models/data/evaluation.npz");
              spec.with("sparsity").put("method", "finetune");
            });
    assertThat(SpecValidator.problems(tuned.getSpec())).isEmpty();
    // A tokenizer kept from a text sample does not let tensors through the same checks.
    var withTokenizer =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity")
                  .with("calibration")
                  .put("dataUri", "pvc://models/data/calibration.npz");
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("engine").put("backend", "tensorrt");
            });
    assertThat(SpecValidator.problems(withTokenizer.getSpec()))
        .anyMatch(p -> p.startsWith("spec.evaluation.dataUri: a text file beside .npz tensors"))
        .anyMatch(p -> p.startsWith("spec.source.task: embedding reads text"))
        .anyMatch(p -> p.startsWith("spec.rollout.capture: the serving pods' captured samples"))
        .anyMatch(p -> p.startsWith("spec.engine.backend: tensorrt builds its optimization"));
    var captured =
        Fixtures.minilm(
            spec -> {
              spec.with("source").remove("tokenizerUri");
              spec.with("source").put("task", "classification");
              spec.with("sparsity").with("calibration").remove("dataUri");
              spec.with("sparsity").with("calibration").put("source", "captured");
              spec.with("evaluation").put("dataUri", "pvc://models/data/evaluation.npz");
            });
    assertThat(SpecValidator.problems(captured.getSpec()))
        .anyMatch(p -> p.startsWith("spec.sparsity.calibration.source: captured samples are read"));
  }

  @Test
  void aModelOfRawOutputsIsGatedOnCosineOnTensorsAndPrunedOneShot() {
    var raw = tensors("tensor", spec -> {});
    assertThat(SpecValidator.problems(raw.getSpec())).isEmpty();

    var refused =
        tensors(
            "tensor",
            spec -> {
              spec.with("evaluation").put("labelsUri", "pvc://models/data/labels.txt");
              spec.with("gate").put("metric", "top1-agreement");
              spec.with("sparsity").put("method", "finetune");
            });
    assertThat(SpecValidator.problems(refused.getSpec()))
        .anyMatch(
            p ->
                p.startsWith("spec.gate.metric: \"top1-agreement\" needs classes")
                    && p.contains("cosine-fidelity"))
        .anyMatch(p -> p.startsWith("spec.evaluation.labelsUri: a model of raw outputs"))
        .anyMatch(p -> p.startsWith("spec.sparsity.method: a model of raw outputs"))
        .hasSize(3);

    // Raw outputs of text would be compared position by padded position: refused, with the tasks
    // text has.
    var text = Fixtures.minilm(spec -> spec.with("source").put("task", "tensor"));
    assertThat(SpecValidator.problems(text.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.source.task: tensor compares the raw outputs of tensor inputs")
        .contains("embedding, classification or ranking");
  }

  /** The sample with no tokenizer, its data .npz files, of the task given, edited further. */
  private static io.sparserollout.api.v1alpha1.SparseModel tensors(
      String task,
      java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> more) {
    return Fixtures.minilm(
        spec -> {
          spec.with("source").remove("tokenizerUri");
          spec.with("source").put("task", task);
          spec.with("sparsity")
              .with("calibration")
              .put("dataUri", "pvc://models/data/calibration.npz");
          spec.with("evaluation").put("dataUri", "pvc://models/data/evaluation.npz");
          more.accept(spec);
        });
  }
}
