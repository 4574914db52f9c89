package io.sparserollout.stage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageResultTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyResultSurvivesItsOwnJson() throws Exception {
    List<StageResult> results =
        List.of(
            new PruneResult(
                "sparsegpt",
                "s3://b/pruned.onnx",
                36,
                List.of(new PruneResult.SkippedLayer("w", "rows not divisible by 4")),
                1,
                0.5,
                12.5,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                null),
            new FineTuneResult(
                "out.onnx",
                "pruned",
                100,
                0.88,
                0.93,
                40.0,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            new QuantizeResult(
                "q.onnx",
                36,
                80,
                99.99,
                11,
                13,
                List.of(),
                5.0,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                null),
            new EngineResult(
                "onnxruntime",
                "fp32",
                "1.29",
                null,
                null,
                null,
                "e",
                8,
                128,
                2.0,
                1.5,
                1.333,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                // Four variants timed at two shapes: the most a CPU pipeline reports.
                java.util.stream.Stream.of("dense-fp32", "dense-int8", "sparse-fp32", "sparse-int8")
                    .map(
                        name ->
                            new EngineResult.VariantEngine(
                                name,
                                "b".repeat(64),
                                36,
                                List.of(
                                    new EngineResult.Timing(
                                        8,
                                        128,
                                        30,
                                        61.123,
                                        70.456,
                                        131.234,
                                        0.0432,
                                        List.of(131.234, 129.876, 133.001, 128.456, 132.789)),
                                    new EngineResult.Timing(
                                        32,
                                        128,
                                        30,
                                        241.123,
                                        260.456,
                                        132.234,
                                        0.0512,
                                        List.of(132.234, 130.876, 134.001, 129.456, 133.789)))))
                    .toList()),
            new EvaluationResult(
                300,
                new EvaluationResult.Fidelity(0.9, 0.7, 0.8, 0.6, 0.66),
                new EvaluationResult.Task(
                    5,
                    new EvaluationResult.Scores(0.9, 0.8, 3.0),
                    new EvaluationResult.Scores(0.88, 0.79, 2.9)),
                new EvaluationResult.Performance(32, 100.0, 300.0, 2),
                new EvaluationResult.Performance(32, 180.0, 170.0, 2),
                java.util.stream.Stream.of("dense-int8", "sparse-fp32", "sparse-int8")
                    .map(
                        name ->
                            new EvaluationResult.VariantQuality(
                                name,
                                new EvaluationResult.Fidelity(
                                    0.9012345, 0.7012345, 0.8012345, 0.6012345, 0.6612345),
                                new EvaluationResult.Scores(0.8812345, 0.7912345, 2.912345)))
                    .toList(),
                null),
            new FetchResult("/models/model.onnx", 90_000_000L));
    for (StageResult result : results) {
      String text = JSON.writeValueAsString(result);
      assertThat(text.length()).isLessThan(Cli.TERMINATION_MESSAGE_LIMIT);
      assertThat(JSON.readValue(text, result.getClass())).isEqualTo(result);
    }
  }

  /** The most the CRD allows: sets, each with a long name, labels, every variant and a window. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(ModelTask.class)
  void theCompactResultOfTheMostNamedSetsFitsTheTerminationMessage(ModelTask task)
      throws Exception {
    EvaluationResult.Fidelity fidelity =
        new EvaluationResult.Fidelity(0.90123456789, 0.7, 0.8, 0.60123456789, 0.66123456789);
    // A classifier's scores are accuracy alone; it keeps its top-1 agreement instead.
    EvaluationResult.Scores scores =
        task == ModelTask.CLASSIFICATION
            ? new EvaluationResult.Scores(0.8812345678, null, null)
            : new EvaluationResult.Scores(0.8812345678, 0.79123456, 2.912345);
    List<EvaluationResult.SetQuality> sets =
        java.util.stream.IntStream.range(0, MAX_SETS)
            .mapToObj(
                i ->
                    new EvaluationResult.SetQuality(
                        ("set-" + i + "-").repeat(8).substring(0, 40),
                        100_000,
                        fidelity,
                        new EvaluationResult.Task(5, scores, scores),
                        java.util.stream.Stream.of("dense-int8", "sparse-fp32", "sparse-int8")
                            .map(
                                name -> new EvaluationResult.VariantQuality(name, fidelity, scores))
                            .toList(),
                        new CapturedData(100_000, 12, "2026-12-06T05", "2026-12-06T07")))
            .toList();
    EvaluationResult full =
        new EvaluationResult(
            100_000,
            fidelity,
            sets.get(0).task(),
            new EvaluationResult.Performance(32, 100.123456789, 300.123456789, 2),
            new EvaluationResult.Performance(32, 180.123456789, 170.123456789, 2),
            sets.get(0).variants(),
            sets.get(0).captured(),
            sets);

    String text = JSON.writeValueAsString(full.compact(task));

    assertThat(text.length()).isLessThan(Cli.TERMINATION_MESSAGE_LIMIT);
    EvaluationResult read = JSON.readValue(text, EvaluationResult.class);
    assertThat(read.qualities()).hasSize(MAX_SETS);
    assertThat(read.qualities().get(3).fidelity().top1Agreement())
        .isEqualTo(task == ModelTask.CLASSIFICATION ? Double.valueOf(0.601234568) : null);
    assertThat(read.qualities().get(3).variants().get(2).fidelity().cosineMean())
        .isEqualTo(0.901234568);
    assertThat(read.dense().sentencesPerSecond()).isEqualTo(100.123456789);
  }

  @Test
  void aModelOfManyRawOutputsKeepsEachOutputsNumbersInTheReportNotTheTerminationMessage()
      throws Exception {
    List<EvaluationResult.OutputFidelity> outputs =
        java.util.stream.IntStream.range(0, 200)
            .mapToObj(
                i ->
                    new EvaluationResult.OutputFidelity(
                        "an_output_with_a_long_name_" + i, 0.95, 0.5, 0.8, 0.25))
            .toList();
    EvaluationResult.Fidelity fidelity =
        new EvaluationResult.Fidelity(0.95, 0.5, 0.8, null, null, outputs);
    EvaluationResult full =
        new EvaluationResult(
            300,
            fidelity,
            null,
            new EvaluationResult.Performance(32, 100.0, 300.0, 2),
            new EvaluationResult.Performance(32, 180.0, 170.0, 2),
            List.of(new EvaluationResult.VariantQuality("dense-int8", fidelity, null)),
            null);

    String text = JSON.writeValueAsString(full.compact(ModelTask.TENSOR));

    assertThat(JSON.writeValueAsString(full).length()).isGreaterThan(Cli.TERMINATION_MESSAGE_LIMIT);
    assertThat(text.length()).isLessThan(Cli.TERMINATION_MESSAGE_LIMIT);
    EvaluationResult read = JSON.readValue(text, EvaluationResult.class);
    assertThat(read.fidelity().cosineMean()).isEqualTo(0.95);
    assertThat(read.fidelity().outputs()).isNull();
    assertThat(read.variants().get(0).fidelity().cosineMean()).isEqualTo(0.95);
    // The report keeps them, and reads them back.
    assertThat(
            JSON.readValue(JSON.writeValueAsString(full), EvaluationResult.class)
                .fidelity()
                .outputs())
        .hasSize(200)
        .first()
        .isEqualTo(outputs.get(0));
  }

  /** spec.evaluation.sets' maxItems. */
  private static final int MAX_SETS = 4;

  @Test
  void aNewerWriterMayAddFieldsAndAMissingNumberIsNullNotZero() throws Exception {
    EvaluationResult read =
        JSON.readValue(
            "{\"samples\":3,\"fromTheFuture\":1,\"fidelity\":{\"cosineMean\":0.9}}",
            EvaluationResult.class);
    assertThat(read.fidelity().cosineMean()).isEqualTo(0.9);
    assertThat(read.fidelity().top5Overlap()).isNull();
    assertThat(read.task()).isNull();
  }

  @Test
  void commandLinesSpellOnlyTheOptionsThatHaveValues() {
    assertThat(
            new PruneArgs(
                    PruneArgs.Method.MAGNITUDE,
                    "m.onnx",
                    "p.onnx",
                    128,
                    null,
                    null,
                    null,
                    List.of(),
                    null,
                    "r.json",
                    null,
                    null)
                .toArgs())
        .containsExactly(
            "prune",
            "--method",
            "magnitude",
            "--model",
            "m.onnx",
            "--out",
            "p.onnx",
            "--max-length",
            "128",
            "--report",
            "r.json",
            "--json");
    assertThat(
            new FineTuneArgs(
                    "d",
                    null,
                    "t",
                    "c",
                    "o",
                    10,
                    16,
                    5e-5,
                    true,
                    List.of("a", "b"),
                    null,
                    true,
                    null,
                    false,
                    null,
                    "r",
                    null,
                    null)
                .toArgs())
        .containsSubsequence("--qat", "int8")
        .containsSubsequence("--include=a", "--include=b")
        .contains("--progressive", "--no-distillation")
        .doesNotContain(
            "--init", "--labels", "--exclude", "--workers", "--rank", "--master", "--task");
    assertThat(
            new FineTuneArgs(
                    "d",
                    "p",
                    "t",
                    "c",
                    "o",
                    10,
                    16,
                    5e-5,
                    false,
                    null,
                    null,
                    false,
                    null,
                    true,
                    null,
                    "r",
                    null,
                    ModelTask.RANKING)
                .withWorker(new FineTuneArgs.Worker(1, 2, "m.ns.svc:29500"))
                .toArgs())
        .containsSubsequence("--workers", "2", "--rank", "1", "--master", "m.ns.svc:29500")
        .containsSubsequence("--task", "ranking");
    assertThat(new FetchArgs("s3://b/m", "/models/m").toArgs())
        .containsExactly("fetch", "--from", "s3://b/m", "--out", "/models/m");
  }
}
