package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.TinyModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stages read a folder of samples the serving pods captured where a sentences file would go:
 * calibration and evaluation on disjoint parts, no tokenizer needed, and the window reported.
 */
class CapturedDataCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path encoder;
  private Path captured;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void modelAndCapturedTraffic() throws Exception {
    encoder = TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("enc.onnx"));
    captured = dir.resolve("captured");
    for (String hour : List.of("2026-12-06T05", "2026-12-06T06")) {
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        int n = 3 + i % 7;
        long[] ids = new long[n];
        long[] mask = new long[n];
        for (int t = 0; t < n; t++) {
          ids[t] = 1000 + (hour.hashCode() & 0xff) + i * 7 + t;
          mask[t] = 1;
        }
        lines.add(io.sparserollout.sparsify.text.CapturedSamplesTest.row(ids, mask));
      }
      io.sparserollout.sparsify.text.CapturedSamplesTest.write(captured, hour, "pod-a", lines);
    }
  }

  @Test
  void pruningCalibratesAndEvaluationHoldsOutDisjointCapturedSamples() throws Exception {
    Path pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "sparsegpt",
                "--model",
                encoder.toString(),
                "--out",
                pruned.toString(),
                "--calibration",
                captured.toString(),
                "--captured-part",
                "calibration",
                "--json"))
        .as(err.toString())
        .isZero();
    JsonNode prune = JSON.readTree(out.toString());
    int calibration = prune.at("/captured/samples").asInt();
    assertThat(calibration).isPositive();
    assertThat(prune.at("/captured/firstHour").asText()).isEqualTo("2026-12-06T05");
    assertThat(prune.at("/captured/lastHour").asText()).isEqualTo("2026-12-06T06");

    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                pruned.toString(),
                "--tokenizer",
                "unused-for-captured-data.json",
                "--data",
                captured.toString(),
                "--captured-part",
                "held-out",
                "--json"))
        .as(err.toString())
        .isZero();
    JsonNode evaluation = JSON.readTree(out.toString());
    assertThat(evaluation.at("/captured/samples").asInt() + calibration).isEqualTo(60);
    assertThat(evaluation.at("/samples").asInt()).isEqualTo(60 - calibration);
    assertThat(evaluation.at("/fidelity/cosineMean").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void mixedCalibrationTakesHalfFromTheFileAndHalfCaptured() throws Exception {
    Path tokenizer = dir.resolve("tokenizer.json");
    try (var in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    Path sentences = Files.writeString(dir.resolve("s.txt"), "One sentence here.\n".repeat(20));

    assertThat(
            run(
                "prune",
                "--method",
                "sparsegpt",
                "--model",
                encoder.toString(),
                "--out",
                dir.resolve("mixed.onnx").toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                sentences.toString(),
                "--also-captured",
                captured.toString(),
                "--captured-part",
                "calibration",
                "--samples",
                "10",
                "--json"))
        .as(err.toString())
        .isZero();
    assertThat(JSON.readTree(out.toString()).at("/captured/samples").asInt()).isEqualTo(5);
    assertThat(err.toString()).contains("10 calibration samples, 5 of them captured");
  }

  @Test
  void capturedSamplesHaveNoLabels() throws Exception {
    Path labels = Files.writeString(dir.resolve("labels.txt"), "a\nb\n");
    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                encoder.toString(),
                "--tokenizer",
                "unused.json",
                "--data",
                captured.toString(),
                "--labels",
                labels.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("captured samples have no labels");
  }

  @Test
  void anEmptyCaptureFolderIsBadInputWithTheReason() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("nothing"));
    assertThat(
            run(
                "prune",
                "--method",
                "sparsegpt",
                "--model",
                encoder.toString(),
                "--out",
                dir.resolve("o.onnx").toString(),
                "--calibration",
                empty.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("no captured samples");
    assertThat(dir.resolve("o.onnx")).doesNotExist();
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
