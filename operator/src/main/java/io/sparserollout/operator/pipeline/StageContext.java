package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.util.List;

/** What every stage handler needs: the resource, where its artifacts go, and the stage plan. */
public record StageContext(SparseModel model, Storage storage, List<Stage> plan) {
  static final String PRUNED = "pruned.onnx";
  static final String FINETUNED = "finetuned.onnx";
  static final String QUANTIZED = "quantized.onnx";
  static final String ENGINE = "engine";

  public static StageContext of(SparseModel model, String revision) {
    return new StageContext(model, new Storage(model, revision), Stage.plan(model.getSpec()));
  }

  SparseModelSpec spec() {
    return model.getSpec();
  }

  String tokenizer() {
    String uri = spec().source().tokenizerUri();
    return uri == null ? null : Storage.path(uri);
  }

  String calibration() {
    String uri = spec().sparsity().calibration().dataUri();
    return uri == null ? null : Storage.path(uri);
  }

  int maxLength() {
    return spec().source().maxSequenceLength();
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

  /** Where a stage writes its full report. */
  String report(Stage stage) {
    return storage.artifact(reportName(stage));
  }

  static String reportName(Stage stage) {
    return "reports/" + stage.jobSuffix() + ".json";
  }
}
