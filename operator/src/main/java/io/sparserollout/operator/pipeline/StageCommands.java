package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The sparsify command line of each stage: what the stage's Job runs. */
public final class StageCommands {
  static final String PRUNED = "pruned.onnx";
  static final String FINETUNED = "finetuned.onnx";
  static final String QUANTIZED = "quantized.onnx";
  static final String ENGINE = "engine";
  static final String REPORTS = "reports/";

  private StageCommands() {}

  public static List<String> args(
      SparseModel model, Storage storage, List<Stage> plan, Stage stage) {
    SparseModelSpec spec = model.getSpec();
    List<String> args = new ArrayList<>();
    String tokenizer =
        spec.source().tokenizerUri() == null ? null : Storage.path(spec.source().tokenizerUri());
    String calibration =
        spec.sparsity().calibration().dataUri() == null
            ? null
            : Storage.path(spec.sparsity().calibration().dataUri());
    String maxLength = Integer.toString(spec.source().maxSequenceLength());
    switch (stage) {
      case PRUNE -> {
        // finetune starts from SparseGPT masks, the best one-shot initialisation.
        String method =
            spec.sparsity().method() == SparsitySpec.Method.MAGNITUDE ? "magnitude" : "sparsegpt";
        args.addAll(
            List.of(
                "prune",
                "--method",
                method,
                "--model",
                Storage.path(spec.source().uri()),
                "--out",
                storage.artifact(PRUNED),
                "--max-length",
                maxLength));
        if (!method.equals("magnitude")) {
          args.addAll(
              List.of(
                  "--tokenizer",
                  tokenizer,
                  "--calibration",
                  calibration,
                  "--samples",
                  spec.sparsity().calibration().samples().toString()));
        }
        addList(args, "--include", spec.sparsity().layers().include());
        addList(args, "--exclude", spec.sparsity().layers().exclude());
      }
      case FINETUNE -> {
        args.addAll(
            List.of(
                "finetune",
                "--dense",
                Storage.path(spec.source().uri()),
                "--init",
                storage.artifact(PRUNED),
                "--tokenizer",
                tokenizer,
                "--train",
                calibration,
                "--out",
                storage.artifact(FINETUNED),
                "--steps",
                spec.fineTuning().steps().toString(),
                "--batch-size",
                spec.fineTuning().batchSize().toString(),
                "--learning-rate",
                spec.fineTuning().learningRate().toString()));
        if (spec.quantization().mode()
            == io.sparserollout.api.v1alpha1.QuantizationSpec.Mode.INT8_QAT) {
          args.addAll(List.of("--qat", "int8"));
        }
        if (spec.sparsity().progressiveSteps() != null
            && !spec.sparsity().progressiveSteps().isEmpty()) {
          args.add("--progressive");
        }
        if (!Boolean.TRUE.equals(spec.fineTuning().distillation())) {
          args.add("--no-distillation");
        }
      }
      case QUANTIZE ->
          args.addAll(
              List.of(
                  "quantize",
                  "--model",
                  storage.artifact(input(plan, stage)),
                  "--out",
                  storage.artifact(QUANTIZED),
                  "--tokenizer",
                  tokenizer,
                  "--calibration",
                  calibration,
                  "--percentile",
                  spec.quantization().percentile().toString(),
                  "--max-length",
                  maxLength));
      case BUILD_ENGINE -> {
        var shapes = spec.engine().shapes();
        args.addAll(
            List.of(
                "build-engine",
                "--backend",
                spec.engine().backend().name().toLowerCase(Locale.ROOT),
                "--precision",
                spec.engine().precision().name().toLowerCase(Locale.ROOT),
                "--model",
                storage.artifact(input(plan, stage)),
                "--dense",
                Storage.path(spec.source().uri()),
                "--out",
                storage.artifact(ENGINE),
                "--batch",
                shapes.minBatch() + "," + shapes.optBatch() + "," + shapes.maxBatch(),
                "--sequence",
                shapes.minSequence() + "," + shapes.optSequence() + "," + shapes.maxSequence()));
      }
      case EVALUATE -> {
        boolean ownData = spec.evaluation().dataUri() != null;
        args.addAll(
            List.of(
                "evaluate",
                "--dense",
                Storage.path(spec.source().uri()),
                "--candidate",
                storage.artifact(input(plan, stage)),
                "--tokenizer",
                tokenizer,
                "--data",
                ownData ? Storage.path(spec.evaluation().dataUri()) : calibration,
                "--samples",
                spec.evaluation().samples().toString(),
                "--top-k",
                spec.evaluation().topK().toString(),
                "--max-length",
                maxLength));
        if (!ownData) {
          // Held out: the sentences after those calibration used.
          args.addAll(List.of("--offset", spec.sparsity().calibration().samples().toString()));
        }
        if (spec.evaluation().labelsUri() != null) {
          args.addAll(List.of("--labels", Storage.path(spec.evaluation().labelsUri())));
        }
      }
    }
    args.addAll(
        List.of("--report", storage.artifact(REPORTS + stage.jobSuffix() + ".json"), "--json"));
    return args;
  }

  /** The ONNX model a stage reads: the output of the last model-producing stage before it. */
  static String input(List<Stage> plan, Stage stage) {
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

  private static void addList(List<String> args, String option, List<String> values) {
    if (values != null && !values.isEmpty()) {
      args.add(option);
      args.add(String.join(",", values));
    }
  }
}
