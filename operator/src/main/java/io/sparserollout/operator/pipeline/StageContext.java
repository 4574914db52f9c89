package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.StageCompletion;
import io.sparserollout.stage.CapturedData;
import java.util.List;

/**
 * What every stage handler needs: the resource, where its artifacts go, the stage plan, and the
 * status holding the digests finished stages reported (null: none known).
 */
public record StageContext(
    SparseModel model, Storage storage, List<Stage> plan, SparseModelStatus status) {

  public StageContext(SparseModel model, Storage storage, List<Stage> plan) {
    this(model, storage, plan, null);
  }

  static final String PRUNED = "pruned.onnx";
  static final String FINETUNED = "finetuned.onnx";
  static final String QUANTIZED = "quantized.onnx";
  public static final String ENGINE = "engine";

  public static StageContext of(SparseModel model, String revision) {
    return of(model, revision, null);
  }

  public static StageContext of(SparseModel model, String revision, SparseModelStatus status) {
    return new StageContext(
        model,
        new Storage(model, revision, status == null ? null : status.getArtifactRun()),
        Stage.plan(model.getSpec()),
        status);
  }

  SparseModelSpec spec() {
    return model.getSpec();
  }

  String tokenizer() {
    String uri = spec().source().tokenizerUri();
    return uri == null ? null : Storage.path(uri);
  }

  /** The calibration samples: the spec's file, or the folder the serving pods capture into. */
  String calibration() {
    if (spec().sparsity().calibration().captured() && !spec().sparsity().calibration().mixed()) {
      return Storage.path(Storage.captureUri(model));
    }
    String uri = spec().sparsity().calibration().dataUri();
    return uri == null ? null : Storage.path(uri);
  }

  /** With mixed calibration, the captured samples read besides the file. */
  String calibrationAlsoCaptured() {
    return spec().sparsity().calibration().mixed() ? Storage.path(Storage.captureUri(model)) : null;
  }

  /** Which captured samples calibration reads: never those evaluation holds out. */
  String calibrationPart() {
    return spec().sparsity().calibration().captured()
        ? CapturedData.Part.CALIBRATION.option()
        : null;
  }

  int maxLength() {
    return spec().source().maxSequenceLength();
  }

  /** What the model's samples and first output are (a ranker's samples are pairs). */
  io.sparserollout.stage.ModelTask task() {
    return EvaluateStage.task(spec().source());
  }

  /** The ONNX model a stage reads: the output of the last model-producing stage before it. */
  String inputOf(Stage stage) {
    String model = PRUNED;
    for (Stage earlier : plan.subList(0, plan.indexOf(stage))) {
      if (earlier == Stage.FINETUNE) {
        model = FINETUNED;
      } else if (earlier == Stage.QUANTIZE) {
        model = QUANTIZED;
      }
    }
    return model;
  }

  /**
   * The SHA-256 the stage that wrote {@link #inputOf} reported (read when the command is built, so
   * a stage finished in the same reconcile counts), or null when none is recorded.
   */
  String inputSha256(Stage stage) {
    if (status == null) {
      return null;
    }
    Stage producer = Stage.PRUNE;
    for (Stage earlier : plan.subList(0, plan.indexOf(stage))) {
      if (earlier == Stage.FINETUNE || earlier == Stage.QUANTIZE) {
        producer = earlier;
      }
    }
    return completedSha256(producer);
  }

  /** The SHA-256 a finished stage reported for what it wrote, or null. */
  String completedSha256(Stage producer) {
    if (status == null) {
      return null;
    }
    String name = producer.jobSuffix();
    return status.getCompletedStages().stream()
        .filter(c -> name.equals(c.stage()))
        .map(StageCompletion::sha256)
        .filter(java.util.Objects::nonNull)
        .findFirst()
        .orElse(null);
  }

  /** Where a stage writes its full report. */
  String report(Stage stage) {
    return storage.artifact(reportName(stage));
  }

  static String reportName(Stage stage) {
    return "reports/" + stage.jobSuffix() + ".json";
  }
}
