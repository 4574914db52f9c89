package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.EvaluationSet;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model of tensors (an image network) reads its samples from {@code .npz} files of arrays named
 * after its inputs, and has no tokenizer. Whenever a spec has no tokenizer or names an {@code .npz}
 * file, what the stages cannot do with tensors yet is refused up front, naming the field: text
 * files beside them, captured samples and capture (the pods' samples are read back as token ids),
 * tasks other than classification and tensor (pooling over tokens, query-document pairs) and
 * TensorRT engines (their profiles are built for token inputs). A classifier's fine-tuning distils
 * the class distribution on the calibration file's tensors, as a classifier's checks require.
 */
final class TensorData {
  private static final String WHY = " (the samples are tensors, .npz)";

  private TensorData() {}

  static boolean isNpz(String uri) {
    return uri != null && uri.toLowerCase(Locale.ROOT).endsWith(".npz");
  }

  static void problems(SparseModelSpec spec, List<String> problems) {
    Map<String, String> files = dataFiles(spec);
    boolean tensors = files.values().stream().anyMatch(TensorData::isNpz);
    boolean rawOutputs = spec.source().taskOrDefault() == ModelSource.Task.TENSOR;
    if (spec.source().tokenizerUri() != null && !tensors) {
      if (rawOutputs) {
        problems.add(
            "spec.source.task: tensor compares the raw outputs of tensor inputs (.npz files of"
                + " arrays named after the model's inputs, no tokenizer); a text model's task is"
                + " embedding, classification or ranking");
      }
      return; // text, the common case
    }
    for (Map.Entry<String, String> file : files.entrySet()) {
      if (!isNpz(file.getValue())) {
        problems.add(
            file.getKey()
                + (spec.source().tokenizerUri() == null
                    ? ": a text file needs spec.source.tokenizerUri; without one give tensors, an"
                        + " .npz file of arrays named after the model's inputs"
                    : ": a text file beside .npz tensors; every data file of a model is text or"
                        + " every one is tensors"));
      }
    }
    if (files.isEmpty()) {
      problems.add(
          "spec.source.tokenizerUri: required for text; a model of tensors is evaluated on an .npz"
              + " file (spec.evaluation.dataUri or spec.sparsity.calibration.dataUri)");
      return;
    }
    if (spec.source().taskOrDefault() != ModelSource.Task.CLASSIFICATION && !rawOutputs) {
      problems.add(
          "spec.source.task: "
              + spec.source().taskOrDefault().name().toLowerCase(Locale.ROOT)
              + " reads text"
              + WHY
              + "; a model of tensors is evaluated as classification (its first output [batch,"
              + " classes]) or as tensor (every output, compared as it is)");
    }
    capturedSources(spec, problems);
    if (spec.rollout().capture() != null
        && Boolean.TRUE.equals(spec.rollout().capture().enabled())) {
      problems.add(
          "spec.rollout.capture: the serving pods' captured samples are read back as token ids"
              + WHY
              + "; capture is not built for models of tensors");
    }
    if (spec.engine().backend() == EngineSpec.Backend.TENSORRT) {
      problems.add(
          "spec.engine.backend: tensorrt builds its optimization profiles for token inputs, not"
              + " yet for tensors"
              + WHY
              + "; use onnxruntime");
    }
  }

  /** The data files the stages read, by field; a set by its index, as the other checks name it. */
  private static Map<String, String> dataFiles(SparseModelSpec spec) {
    Map<String, String> files = new LinkedHashMap<>();
    put(files, "spec.sparsity.calibration.dataUri", spec.sparsity().calibration().dataUri());
    put(files, "spec.evaluation.dataUri", spec.evaluation().dataUri());
    if (spec.evaluation().hasSets()) {
      List<EvaluationSet> sets = spec.evaluation().sets();
      for (int i = 0; i < sets.size(); i++) {
        put(files, "spec.evaluation.sets[" + i + "].dataUri", sets.get(i).dataUri());
      }
    }
    return files;
  }

  private static void put(Map<String, String> files, String field, String uri) {
    if (uri != null) {
      files.put(field, uri);
    }
  }

  private static void capturedSources(SparseModelSpec spec, List<String> problems) {
    String reason = " are read as token ids" + WHY + "; calibrate and evaluate on .npz files";
    if (spec.sparsity().calibration().captured()) {
      problems.add("spec.sparsity.calibration.source: captured samples" + reason);
    }
    if (spec.evaluation().captured()) {
      problems.add("spec.evaluation.source: captured samples" + reason);
    }
    if (spec.evaluation().hasSets()) {
      List<EvaluationSet> sets = spec.evaluation().sets();
      for (int i = 0; i < sets.size(); i++) {
        if (sets.get(i).captured()) {
          problems.add("spec.evaluation.sets[" + i + "].source: captured samples" + reason);
        }
      }
    }
  }
}
