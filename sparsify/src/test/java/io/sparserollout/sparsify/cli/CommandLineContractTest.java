package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.stage.BuildEngineArgs;
import io.sparserollout.stage.EvaluateArgs;
import io.sparserollout.stage.FetchArgs;
import io.sparserollout.stage.FineTuneArgs;
import io.sparserollout.stage.ModelTask;
import io.sparserollout.stage.PruneArgs;
import io.sparserollout.stage.QuantizeArgs;
import io.sparserollout.stage.StageArgs;
import io.sparserollout.stage.VariantModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command lines the operator builds parse here, and every subcommand explains itself. */
class CommandLineContractTest {

  static List<StageArgs> everyStage() {
    return List.of(
        new PruneArgs(
            PruneArgs.Method.SPARSEGPT,
            "m.onnx",
            "p.onnx",
            128,
            "tok.json",
            "cal.txt",
            128,
            List.of("attention"),
            List.of("pooler"),
            "r.json",
            null,
            null),
        new PruneArgs(
            PruneArgs.Method.MAGNITUDE,
            "m.onnx",
            "p.onnx",
            64,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null),
        new FineTuneArgs(
            "d.onnx",
            "p.onnx",
            "tok.json",
            "cal.txt",
            "f.onnx",
            10,
            16,
            5e-5,
            true,
            null,
            null,
            false,
            "labels.txt",
            false,
            "0".repeat(64),
            "r.json",
            new FineTuneArgs.Worker(1, 2, "master.ns.svc:29500"),
            ModelTask.RANKING),
        new FineTuneArgs(
            "d.onnx",
            null,
            "tok.json",
            "cal.txt",
            "f.onnx",
            10,
            16,
            5e-5,
            false,
            List.of("a"),
            List.of("b"),
            true,
            null,
            true,
            null,
            "r.json",
            null,
            ModelTask.CLASSIFICATION),
        new QuantizeArgs(
            "f.onnx",
            "q.onnx",
            "tok.json",
            "cal.txt",
            99.99,
            128,
            "0".repeat(64),
            "r.json",
            null,
            null),
        new BuildEngineArgs(
            "onnxruntime",
            "fp32",
            "q.onnx",
            "d.onnx",
            "engine",
            new BuildEngineArgs.Range(1, 8, 32),
            new BuildEngineArgs.Range(1, 128, 128),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            List.of(
                new VariantModel("dense-fp32", "d.onnx", null),
                new VariantModel("sparse-int8", "q.onnx", "a".repeat(64))),
            "r.json"),
        new EvaluateArgs(
            "d.onnx",
            "q.onnx",
            "tok.json",
            "cal.txt",
            300,
            5,
            128,
            128,
            "labels.txt",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            List.of(new VariantModel("dense-int8", "dq.onnx", "c".repeat(64))),
            "r.json",
            null,
            null),
        new EvaluateArgs(
            "d.onnx",
            "q.onnx",
            "tok.json",
            null,
            300,
            5,
            128,
            null,
            null,
            null,
            null,
            "r.json",
            "held-out",
            List.of(
                new EvaluateArgs.HeldOutSet("users", "eval.txt", "labels.txt", null),
                new EvaluateArgs.HeldOutSet("in-domain", "cal.txt", null, 128),
                new EvaluateArgs.HeldOutSet("traffic", "/mnt/store/captured", null, null)),
            io.sparserollout.stage.ModelTask.CLASSIFICATION),
        new FetchArgs("s3://bucket/model.onnx", "/models/model.onnx"));
  }

  @ParameterizedTest
  @MethodSource("everyStage")
  void theOperatorsCommandLineParses(StageArgs args) {
    CommandLine cli = SparsifyCli.commandLine();
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArgs().toArray(String[]::new));
    assertThat(parsed.subcommand()).isNotNull();
    assertThat(parsed.subcommand().unmatched()).isEmpty();
  }

  @Test
  void userStringsReachTheStageExactlyAsWritten() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("args", ".txt");
    java.nio.file.Files.writeString(file, "--report /etc/passwd");
    List<String> regexes = List.of("layer\\.[0-9]{1,3}\\.attention", "-dash", "@" + file);
    PruneArgs args =
        new PruneArgs(
            PruneArgs.Method.MAGNITUDE,
            "m.onnx",
            "p.onnx",
            64,
            null,
            null,
            null,
            regexes,
            regexes,
            null,
            null,
            null);
    CommandLine cli = SparsifyCli.commandLine();
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArgs().toArray(String[]::new));
    CommandLine.ParseResult prune = parsed.subcommand();
    assertThat(prune.unmatched()).isEmpty();
    assertThat(prune.<List<String>>matchedOptionValue("--include", List.of()))
        .containsExactlyElementsOf(regexes);
    assertThat(prune.<List<String>>matchedOptionValue("--exclude", List.of()))
        .containsExactlyElementsOf(regexes);
    assertThat(prune.hasMatchedOption("--report")).isFalse();

    CommandLine.ParseResult atFile =
        SparsifyCli.commandLine()
            .parseArgs("prune", "--method", "magnitude", "--model", "@" + file, "--out", "p.onnx")
            .subcommand();
    assertThat(atFile.<String>matchedOptionValue("--model", null)).isEqualTo("@" + file);
    assertThat(atFile.hasMatchedOption("--report")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"prune", "verify", "quantize", "build-engine", "evaluate", "fetch", "finetune"})
  void helpWorksOnEverySubcommandWithoutWarnings(String subcommand) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int code;
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    try {
      code = SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), subcommand, "--help");
    } finally {
      System.setErr(original);
    }
    assertThat(code).isZero();
    assertThat(out.toString()).contains("Usage: sparsify " + subcommand);
    assertThat(err.toString()).isEmpty();
    // picocli reports descriptions it cannot format on System.err.
    assertThat(stderr.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
