package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.text.CapturedSamplesTest;
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
 * {@code evaluate --set}: several named held-out sets (files, with or without labels, and captured
 * samples) on the same models, each with its own numbers.
 */
class EvaluationSetsCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path encoder;
  private Path pruned;
  private Path tokenizer;
  private Path users;
  private Path labels;
  private Path domain;
  private Path captured;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void modelsAndSets() throws Exception {
    encoder = TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("enc.onnx"));
    pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                encoder.toString(),
                "--out",
                pruned.toString()))
        .as(err.toString())
        .isZero();
    tokenizer = dir.resolve("tokenizer.json");
    try (var in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    users =
        Files.writeString(
            dir.resolve("users.txt"),
            "the cat sat\nthe dog ran\na cat slept\na dog barked\nbirds sing\nfish swim\n");
    labels = Files.writeString(dir.resolve("labels.txt"), "cat\ndog\ncat\ndog\nbird\nfish\n");
    domain =
        Files.writeString(
            dir.resolve("licenses.txt"),
            "skipped one\nskipped two\nthis license grants rights\nno warranty is given\n"
                + "you may copy and distribute\n");
    captured = dir.resolve("captured");
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rows.add(
          CapturedSamplesTest.row(new long[] {2000 + i, 2100 + i, 2200}, new long[] {1, 1, 1}));
    }
    CapturedSamplesTest.write(captured, "2026-12-06T07", "pod-a", rows);
  }

  @Test
  void everySetIsEvaluatedOnTheSameModelsWithItsOwnNumbers() throws Exception {
    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                pruned.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--variant",
                "dense-again=" + encoder,
                "--set",
                "users=" + users,
                "--set-labels",
                "users=" + labels,
                "--set",
                "licenses=" + domain,
                "--set-offset",
                "licenses=2",
                "--set",
                "traffic=" + captured,
                "--captured-part",
                "held-out",
                "--top-k",
                "1",
                "--report",
                dir.resolve("report.json").toString(),
                "--json"))
        .as(err.toString())
        .isZero();
    JsonNode result = JSON.readTree(out.toString());
    JsonNode sets = result.get("sets");
    assertThat(sets).hasSize(3);
    assertThat(sets.get(0).get("name").asText()).isEqualTo("users");
    assertThat(sets.get(0).get("samples").asInt()).isEqualTo(6);
    assertThat(sets.get(0).at("/task/dense/accuracy").isNumber()).isTrue();
    assertThat(sets.get(1).get("name").asText()).isEqualTo("licenses");
    assertThat(sets.get(1).get("samples").asInt()).isEqualTo(3);
    assertThat(sets.get(1).has("task")).isFalse();
    assertThat(sets.get(2).get("name").asText()).isEqualTo("traffic");
    assertThat(sets.get(2).at("/captured/samples").asInt())
        .isEqualTo(sets.get(2).get("samples").asInt())
        .isBetween(1, 19);
    for (JsonNode set : sets) {
      assertThat(set.at("/fidelity/cosineMean").asDouble()).isBetween(0.0, 1.0);
      // The dense model compared with itself, on each set.
      assertThat(set.at("/variants/0/fidelity/cosineMean").asDouble()).isGreaterThan(0.9999);
    }
    // The top-level numbers are the first set's, as a single-set evaluation gives them.
    assertThat(result.get("samples").asInt()).isEqualTo(6);
    assertThat(result.at("/fidelity/cosineMean").asDouble())
        .isCloseTo(sets.get(0).at("/fidelity/cosineMean").asDouble(), within(1e-6));
    // The compact result keeps what a gate reads; the report keeps every number of every set.
    assertThat(sets.get(1).at("/fidelity").has("cosineP5")).isFalse();
    JsonNode report = JSON.readTree(dir.resolve("report.json").toFile());
    assertThat(report.at("/sets/1/fidelity/cosineP5").isNumber()).isTrue();
    assertThat(report.at("/sets/0/task/candidate/ndcg").isNumber()).isTrue();
    assertThat(result.at("/dense/sentencesPerSecond").asDouble()).isPositive();
  }

  @Test
  void setsAndASingleSetDoNotMix() {
    assertThat(evaluate("--data", users.toString(), "--set", "users=" + users)).isEqualTo(2);
    assertThat(err.toString()).contains("--data, --labels and --offset describe a single set");
  }

  @Test
  void labelsOrAnOffsetForASetNotGivenAreRefused() {
    assertThat(evaluate("--set", "users=" + users, "--set-labels", "user=" + labels)).isEqualTo(2);
    assertThat(err.toString()).contains("no --set named user");
  }

  @Test
  void capturedSetHasNoLabels() {
    assertThat(
            evaluate(
                "--set",
                "traffic=" + captured,
                "--set-labels",
                "traffic=" + labels,
                "--captured-part",
                "held-out"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("evaluation set traffic: captured samples have no labels");
  }

  @Test
  void aSetTooSmallIsNamed() throws Exception {
    Path one = Files.writeString(dir.resolve("one.txt"), "only one\n");
    assertThat(evaluate("--set", "users=" + users, "--set", "tiny=" + one)).isEqualTo(2);
    assertThat(err.toString()).contains("evaluation set tiny: evaluation needs at least 2");
  }

  @Test
  void noDataAtAllIsRefused() {
    assertThat(evaluate()).isEqualTo(2);
    assertThat(err.toString()).contains("give the held-out data: --data, or named sets with --set");
  }

  private int evaluate(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                pruned.toString(),
                "--tokenizer",
                tokenizer.toString()));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
