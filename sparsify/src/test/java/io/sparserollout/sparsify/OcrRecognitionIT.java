package io.sparserollout.sparsify;

import static io.sparserollout.sparsify.PackagedCli.json;
import static io.sparserollout.sparsify.PackagedCli.script;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged command line on a model of raw outputs (task tensor): PaddleOCR's real PP-OCRv4 text
 * recognizer (from npm), whose output is each position's character probabilities, on upright crops
 * rendered from held-out Debian text. Fewer calibration samples than
 * scripts/bench-ocr-recognition.sh (whose numbers docs/benchmarks.md gives), to keep CI short.
 */
class OcrRecognitionIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path WORK =
      Path.of(System.getProperty("work.dir")).resolveSibling("ocr-recognition");
  private static final String OUTPUT = "softmax_11.tmp_0";
  private static Path dense;

  @BeforeAll
  static void modelAndImages() throws Exception {
    Files.createDirectories(WORK);
    dense = Path.of(script("ocr-models.sh").trim()).resolve("ch_PP-OCRv4_rec_infer.onnx");
    script("ocr-recognition-data.sh", WORK.toString());
  }

  @Test
  void eachOutputIsComparedAsItIsAndSparseGptFollowsTheDenseRecognizerWhereMagnitudeDoesNot()
      throws Exception {
    Path sparseGpt = WORK.resolve("sparsegpt.onnx");
    Path magnitude = WORK.resolve("magnitude.onnx");
    json(
        "prune",
        "--method",
        "sparsegpt",
        "--task",
        "tensor",
        "--model",
        dense,
        "--calibration",
        WORK.resolve("calibration.npz"),
        "--samples",
        "64",
        "--out",
        sparseGpt);
    json("prune", "--method", "magnitude", "--model", dense, "--out", magnitude);

    JsonNode itself = evaluate(dense).get("fidelity");
    JsonNode bySparseGpt = evaluate(sparseGpt).get("fidelity");
    JsonNode byMagnitude = evaluate(magnitude).get("fidelity");

    assertThat(itself.get("cosineMean").asDouble())
        .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(itself.at("/outputs/0/maxAbsError").asDouble()).isZero();
    JsonNode output = bySparseGpt.at("/outputs/0");
    assertThat(bySparseGpt.get("outputs")).hasSize(1);
    assertThat(output.get("name").asText()).isEqualTo(OUTPUT);
    assertThat(output.get("cosineMean").asDouble())
        .isEqualTo(bySparseGpt.get("cosineMean").asDouble())
        .isGreaterThan(0.85);
    assertThat(output.get("maxAbsError").asDouble()).isBetween(0.0, 1.0); // probabilities
    assertThat(bySparseGpt.has("top1Agreement")).isFalse();
    assertThat(byMagnitude.get("cosineMean").asDouble())
        .isLessThan(bySparseGpt.get("cosineMean").asDouble() - 0.1);
  }

  @Test
  void labelsTextAndFineTuningAreRefusedWithTheReason() throws Exception {
    Path labels = Files.writeString(WORK.resolve("labels.txt"), "0\n".repeat(300));
    assertThat(
            refused(
                "evaluate",
                "--task",
                "tensor",
                "--dense",
                dense,
                "--candidate",
                dense,
                "--data",
                WORK.resolve("evaluation.npz"),
                "--labels",
                labels))
        .contains("task tensor compares raw outputs, which have no labels to score");
    assertThat(
            refused(
                "finetune",
                "--task",
                "tensor",
                "--dense",
                dense,
                "--train",
                WORK.resolve("calibration.npz"),
                "--out",
                WORK.resolve("tuned.onnx")))
        .contains("a model of raw outputs is not fine-tuned yet");
  }

  /**
   * The evaluation's report: each output's numbers are there (the printed result, which is also a
   * stage's 4 KB termination message, keeps the worst output's cosines).
   */
  private static JsonNode evaluate(Path candidate) throws Exception {
    Path report = Files.createTempFile(WORK, "evaluation", ".json");
    JsonNode printed = evaluate(candidate, report);
    assertThat(printed.at("/fidelity/outputs").isMissingNode()).isTrue();
    return JSON.readTree(report.toFile());
  }

  private static JsonNode evaluate(Path candidate, Path report) throws Exception {
    return json(
        "evaluate",
        "--report",
        report,
        "--task",
        "tensor",
        "--dense",
        dense,
        "--candidate",
        candidate,
        "--data",
        WORK.resolve("evaluation.npz"),
        "--samples",
        "96");
  }

  /** A run that must fail on its input (exit 2, bad input), and what it said. */
  private static String refused(Object... args) throws Exception {
    PackagedCli.Result result = PackagedCli.run(args);
    assertThat(result.exitCode()).as(result.stderr()).isEqualTo(2);
    return result.stderr();
  }
}
