package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EvaluationSet;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model without a tokenizer (an image network) reads its samples as tensors, {@code .npz} files
 * of arrays named after its inputs. What the stages cannot do with tensors yet is refused up front,
 * naming the field: text files, captured samples (read as token ids), fine-tuning (it trains on
 * sentences), and tasks other than classification (pooling over tokens, query-document pairs).
 */
final class TensorData {
  private static final String WHY = " (no spec.source.tokenizerUri: the samples are tensors)";

  private TensorData() {}

  static boolean isNpz(String uri) {
    return uri != null && uri.toLowerCase(Locale.ROOT).endsWith(".npz");
  }

  static void problems(SparseModelSpec spec, List<String> problems) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("spec.sparsity.calibration.dataUri", spec.sparsity().calibration().dataUri());
    files.put("spec.evaluation.dataUri", spec.evaluation().dataUri());
    if (spec.evaluation().hasSets()) {
      for (EvaluationSet set : spec.evaluation().sets()) {
        files.put("spec.evaluation.sets[" + set.name() + "].dataUri", set.dataUri());
      }
    }
    boolean anyData = false;
    for (Map.Entry<String, String> file : files.entrySet()) {
      if (file.getValue() == null) {
        continue;
      }
      anyData = true;
      if (!isNpz(file.getValue())) {
        problems.add(
            file.getKey()
                + ": a text file needs spec.source.tokenizerUri; without one give tensors, an .npz"
                + " file of arrays named after the model's inputs");
      }
    }
    if (!anyData && !spec.sparsity().calibration().captured()) {
      problems.add(
          "spec.source.tokenizerUri: required for text; a model of tensors is evaluated on an .npz"
              + " file (spec.evaluation.dataUri or spec.sparsity.calibration.dataUri)");
    }
    if (spec.source().taskOrDefault() != ModelSource.Task.CLASSIFICATION) {
      problems.add(
          "spec.source.task: "
              + spec.source().taskOrDefault().name().toLowerCase(Locale.ROOT)
              + " reads text"
              + WHY
              + "; a model of tensors is evaluated as classification, its first output [batch,"
              + " classes]");
    }
    if (spec.sparsity().calibration().captured() || HeldOutSets.readsCaptured(spec)) {
      problems.add(
          "spec.sparsity.calibration.source / spec.evaluation.source: captured samples are read"
              + " as token ids"
              + WHY
              + "; calibrate and evaluate on .npz files");
    }
    if (Stage.plan(spec).contains(Stage.FINETUNE)) {
      problems.add(
          "spec.fineTuning: fine-tuning trains on sentences through the tokenizer and is not built"
              + " for tensors"
              + WHY
              + "; use sparsity method magnitude or sparsegpt, and quantization mode none or"
              + " int8-ptq");
    }
  }
}
