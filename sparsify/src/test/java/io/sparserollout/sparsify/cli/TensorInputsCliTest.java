package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.ImageModels;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model without a tokenizer takes its samples as tensors, an {@code .npz} file of arrays named
 * after its inputs: SparseGPT calibrates on them, int8 quantization (convolutions included) reads
 * its ranges from them, and evaluate compares classifiers on them. The model is exported as
 * paddle2onnx exports PaddleOCR's: opset 9, its weights in Constant nodes.
 */
class TensorInputsCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path model;
  private Path calibration;
  private Path evaluation;
  private Path labels;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void data() throws Exception {
    model = TinyModels.write(ImageModels.classifier(7), dir.resolve("classifier.onnx"));
    calibration = images("calibration.npz", "x", 64, 1);
    evaluation = images("evaluation.npz", "x", 40, 2);
    List<String> truth = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      truth.add(String.valueOf(i % 2));
    }
    labels = Files.write(dir.resolve("labels.txt"), truth);
  }

  @Test
  void weightsInConstantNodesArePrunedBySparseGptCalibratedOnTensors() throws Exception {
    Path pruned = dir.resolve("pruned.onnx");

    int code =
        run(
            "prune",
            "--method",
            "sparsegpt",
            "--model",
            model.toString(),
            "--calibration",
            calibration.toString(),
            "--samples",
            "48",
            "--out",
            pruned.toString(),
            "--json");

    assertThat(code).as(err.toString()).isZero();
    JsonNode result = JSON.readTree(out.toString());
    // conv2 [8, 8, 1, 1] and fc [8, 2]; conv1's K of 3 channels is skipped with its reason.
    assertThat(result.get("layersPruned").asInt()).isEqualTo(2);
    assertThat(result.at("/layersSkipped/0/reason").asText()).contains("K=3");
    assertThat(run("verify", "--model", pruned.toString(), "--json")).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).get("violationCount").asInt()).isZero();
    // Written as initializers (read from the file as it is: loading would hoist them again).
    assertThat(ModelProto.parseFrom(Files.readAllBytes(pruned)).getGraph().getNodeList())
        .noneMatch(n -> n.getOpType().equals("Constant"));

    // The engine is timed on inputs of the declared shape: [4, 3, 6, 6], channels as declared.
    int built =
        run(
            "build-engine",
            "--backend",
            "onnxruntime",
            "--dense",
            model.toString(),
            "--model",
            pruned.toString(),
            "--out",
            dir.resolve("engine").toString(),
            "--batch",
            "1,4,4",
            "--sequence",
            "6,6,6",
            "--json");
    assertThat(built).as(err.toString()).isZero();
    JsonNode engine = JSON.readTree(out.toString());
    assertThat(engine.get("sparseLayers").asInt()).isEqualTo(2);
    assertThat(engine.get("latencyMs").asDouble()).isPositive();

    assertThat(evaluate(model, pruned, evaluation, labels)).as(err.toString()).isZero();
    JsonNode quality = JSON.readTree(out.toString());
    assertThat(quality.get("samples").asInt()).isEqualTo(40);
    assertThat(quality.at("/fidelity/top1Agreement").asDouble()).isBetween(0.0, 1.0);
    assertThat(quality.at("/task/dense/accuracy").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void int8QuantizesConvolutionsPerOutputChannelAfterUpgradingOpset9ClipSliceAndPad()
      throws Exception {
    Path int8 = dir.resolve("int8.onnx");

    int code =
        run(
            "quantize",
            "--model",
            model.toString(),
            "--calibration",
            calibration.toString(),
            "--out",
            int8.toString(),
            "--json");

    assertThat(code).as(err.toString()).isZero();
    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("layersQuantized").asInt()).isEqualTo(3); // conv1, conv2 and fc
    assertThat(OnnxModel.load(int8).proto().getGraph().getNodeList())
        .filteredOn(n -> n.getOpType().equals("DequantizeLinear"))
        .extracting(n -> n.getInput(0))
        .contains("conv1.w_QuantizeLinear_Output", "conv2.w_QuantizeLinear_Output");
    assertThat(evaluate(model, int8, evaluation, labels)).as(err.toString()).isZero();
    JsonNode quality = JSON.readTree(out.toString());
    assertThat(quality.at("/fidelity/cosineMean").asDouble()).isGreaterThan(0.99);
    assertThat(quality.at("/fidelity/top1Agreement").asDouble()).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void tensorsThatDoNotFitTheModelAreRefusedNamingWhatItTakes() throws Exception {
    Path misnamed = images("misnamed.npz", "pixels", 8, 3);
    assertThat(evaluate(model, model, misnamed, null)).isNotZero();
    assertThat(err.toString()).contains("takes the inputs [x]", "[pixels]");

    Path wrongShape =
        ImageModels.npz(
            dir.resolve("wide.npz"),
            Map.of("x", new float[4 * 4 * 8 * 8]),
            Map.of("x", new long[] {4, 4, 8, 8}));
    assertThat(evaluate(model, model, wrongShape, null)).isNotZero();
    assertThat(err.toString()).contains("array x has samples of shape [4, 8, 8]", "[?, 3, ?, ?]");

    assertThat(run(evaluateArgs(model, model, evaluation, "embedding"))).isNotZero();
    assertThat(err.toString()).contains("tensor inputs give no tokens", "classification");

    assertThat(run(evaluateArgs(model, model, evaluation, "ranking"))).isNotZero();
    assertThat(err.toString()).contains("a ranker reads query<TAB>document lines");

    Path truncated = dir.resolve("truncated.npz");
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(evaluation), 200));
    assertThat(evaluate(model, model, truncated, null)).isNotZero();
    assertThat(err.toString()).contains("truncated.npz");

    Path sentences = Files.write(dir.resolve("sentences.txt"), List.of("a line", "another"));
    Path tokenizer = dir.resolve("tokenizer.json");
    try (var in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    List<String> text = new ArrayList<>(List.of(evaluateArgs(model, model, sentences, null)));
    text.addAll(List.of("--tokenizer", tokenizer.toString()));
    assertThat(run(text.toArray(String[]::new))).isNotZero();
    assertThat(err.toString()).contains("does not take text", ".npz");

    String[] mixed = {
      "finetune",
      "--dense",
      model.toString(),
      "--tokenizer",
      tokenizer.toString(),
      "--train",
      calibration.toString(),
      "--held-out",
      sentences.toString(),
      "--out",
      dir.resolve("t.onnx").toString()
    };
    assertThat(run(mixed)).isNotZero();
    assertThat(err.toString()).contains("both be sentences or both .npz tensors");

    String[] labelled = {
      "finetune",
      "--dense",
      model.toString(),
      "--train",
      calibration.toString(),
      "--labels",
      labels.toString(),
      "--out",
      dir.resolve("t.onnx").toString()
    };
    assertThat(run(labelled)).isNotZero();
    assertThat(err.toString()).contains("drop --labels");

    String[] undistilled = {
      "finetune",
      "--dense",
      model.toString(),
      "--train",
      calibration.toString(),
      "--no-distillation",
      "--out",
      dir.resolve("t.onnx").toString()
    };
    assertThat(run(undistilled)).isNotZero();
    assertThat(err.toString()).contains("a model of tensors is fine-tuned by distillation");

    String[] asEmbedding = {
      "finetune",
      "--dense",
      model.toString(),
      "--train",
      calibration.toString(),
      "--task",
      "embedding",
      "--out",
      dir.resolve("t.onnx").toString()
    };
    assertThat(run(asEmbedding)).isNotZero();
    assertThat(err.toString()).contains("is fine-tuned as a classifier");
  }

  /**
   * Fine-tuning reads tensors as the other stages do: pruned 2:4 from the dense weights and trained
   * through the opset-9 graph (Constant weights, Clip, Pad and Slice attributes), its Softmax's
   * logits distilled; the output keeps its 2:4 pattern and evaluates on held-out images.
   */
  @Test
  void aModelOfTensorsIsFineTunedByDistillingItsClassDistribution() throws Exception {
    Path tuned = dir.resolve("tuned.onnx");
    Path training = images("training.npz", "x", 96, 4);

    int code =
        run(
            "finetune",
            "--dense",
            model.toString(),
            "--train",
            training.toString(),
            "--held-out",
            evaluation.toString(),
            "--steps",
            "30",
            "--batch-size",
            "16",
            "--eval-every",
            "10",
            "--lr",
            "3e-3",
            "--out",
            tuned.toString(),
            "--json");

    assertThat(code).as(err.toString()).isZero();
    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("steps").asInt()).isEqualTo(30);
    assertThat(result.get("finalFidelity").asDouble())
        .isGreaterThan(result.get("initialFidelity").asDouble());
    assertThat(run("verify", "--model", tuned.toString(), "--json")).as(err.toString()).isZero();
    JsonNode verified = JSON.readTree(out.toString());
    assertThat(verified.get("sparseLayers").asInt()).isEqualTo(2);
    assertThat(verified.get("violationCount").asInt()).isZero();
    assertThat(evaluate(model, tuned, evaluation, labels)).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).get("samples").asInt()).isEqualTo(40);
  }

  private Path images(String name, String input, int count, long seed) {
    return ImageModels.npz(
        dir.resolve(name),
        Map.of(input, ImageModels.images(count, seed)),
        Map.of(input, new long[] {count, 3, ImageModels.SIDE, ImageModels.SIDE}));
  }

  private int evaluate(Path dense, Path candidate, Path data, Path labelsFile) {
    List<String> args =
        new ArrayList<>(List.of(evaluateArgs(dense, candidate, data, "classification")));
    if (labelsFile != null) {
      args.addAll(List.of("--labels", labelsFile.toString()));
    }
    return run(args.toArray(String[]::new));
  }

  private static String[] evaluateArgs(Path dense, Path candidate, Path data, String task) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "evaluate",
                "--dense",
                dense.toString(),
                "--candidate",
                candidate.toString(),
                "--data",
                data.toString(),
                "--json"));
    if (task != null) {
      args.addAll(List.of("--task", task));
    }
    return args.toArray(String[]::new);
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return io.sparserollout.sparsify.cli.SparsifyCli.execute(
        new PrintWriter(out), new PrintWriter(err), args);
  }
}
