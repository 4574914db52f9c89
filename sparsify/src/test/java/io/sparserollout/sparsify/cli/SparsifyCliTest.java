package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.sparserollout.sparsify.TinyModels;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes and messages of the command line, on small models built in the test. */
class SparsifyCliTest {
  @TempDir Path dir;
  private Path encoder;
  private Path tokenizer;
  private Path sentences;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void models() throws Exception {
    // Vocabulary as large as the real tokenizer's, so that its ids index the embedding table.
    encoder = TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("enc.onnx"));
    tokenizer = dir.resolve("tokenizer.json");
    try (InputStream in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    sentences =
        Files.writeString(
            dir.resolve("s.txt"),
            "The quick brown fox jumps over the lazy dog.\nSparse models run faster.\n\n"
                + "Pruning keeps two of every four weights.\nTensor cores like structure.\n");
  }

  @Test
  void prunesVerifiesAndEvaluatesASmallModel() {
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
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                sentences.toString(),
                "--json"))
        .isZero();
    assertThat(out.toString()).contains("\"layersPruned\":2").contains("\"achievedSparsity\":0.5");
    assertThat(run("verify", "--model", pruned.toString(), "--json")).isZero();
    assertThat(out.toString()).contains("\"sparseLayers\":2").contains("\"violationCount\":0");
    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                encoder.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--data",
                sentences.toString(),
                "--json"))
        .isZero();
    assertThat(out.toString()).contains("\"cosineMean\":1.0").contains("\"top1Agreement\":1.0");
  }

  @Test
  void eachModelCarriesItsDigestAndTheNextStageRefusesAReplacedOne() throws Exception {
    Path pruned = dir.resolve("pruned.onnx");
    Path engine = dir.resolve("engine");
    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                encoder.toString(),
                "--out",
                pruned.toString(),
                "--json"))
        .isZero();
    String digest = io.sparserollout.stage.Sha256.of(pruned);
    assertThat(out.toString()).contains("\"sha256\":\"" + digest + "\"");
    String[] buildEngine = {
      "build-engine",
      "--backend",
      "onnxruntime",
      "--model",
      pruned.toString(),
      "--dense",
      encoder.toString(),
      "--out",
      engine.toString(),
      "--batch",
      "1,2,4",
      "--sequence",
      "1,8,16",
      "--expect-sha256",
      digest,
      "--json"
    };
    assertThat(run(buildEngine)).isZero();
    assertThat(out.toString())
        .contains("\"sha256\":\"" + io.sparserollout.stage.Sha256.of(engine.resolve("model.onnx")));

    // Someone puts another model in its place after the stage reported it.
    Files.copy(encoder, pruned, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThat(run(buildEngine)).isEqualTo(2);
    assertThat(err.toString())
        .contains("is not the artifact recorded for it")
        .contains("expected " + digest);
    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                pruned.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--data",
                sentences.toString(),
                "--expect-sha256",
                digest))
        .isEqualTo(2);
    assertThat(err.toString()).contains("is not the artifact recorded for it");
    err.getBuffer().setLength(0);
    assertThat(
            run(
                "quantize",
                "--model",
                pruned.toString(),
                "--out",
                dir.resolve("q.onnx").toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                sentences.toString(),
                "--expect-sha256",
                digest))
        .isEqualTo(2);
    assertThat(err.toString()).contains("is not the artifact recorded for it");
    err.getBuffer().setLength(0);
    assertThat(
            run(
                "finetune",
                "--dense",
                encoder.toString(),
                "--init",
                pruned.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--train",
                sentences.toString(),
                "--out",
                dir.resolve("f.onnx").toString(),
                "--expect-sha256",
                digest))
        .isEqualTo(2);
    assertThat(err.toString()).contains("is not the artifact recorded for it");
    assertThat(dir.resolve("q.onnx")).doesNotExist();
    assertThat(dir.resolve("f.onnx")).doesNotExist();
  }

  @Test
  void dataParallelWorkersNeedTheirOwnRankAndARendezvousAddress() {
    String[] common = {
      "finetune",
      "--dense",
      encoder.toString(),
      "--tokenizer",
      tokenizer.toString(),
      "--train",
      sentences.toString(),
      "--out",
      dir.resolve("w.onnx").toString()
    };
    String[] noRank =
        java.util.stream.Stream.concat(
                java.util.Arrays.stream(common),
                java.util.stream.Stream.of("--workers", "2", "--master", "127.0.0.1:29511"))
            .toArray(String[]::new);
    assertThat(run(noRank)).isEqualTo(2);
    assertThat(err.toString()).contains("2 workers each need their own rank");
    err.getBuffer().setLength(0);
    String[] badPort =
        java.util.stream.Stream.concat(
                java.util.Arrays.stream(common),
                java.util.stream.Stream.of(
                    "--workers", "2", "--rank", "1", "--master", "host:70000"))
            .toArray(String[]::new);
    assertThat(run(badPort)).isEqualTo(2);
    assertThat(err.toString()).contains("need the rendezvous address");
    assertThat(dir.resolve("w.onnx")).doesNotExist();
  }

  @Test
  void buildsAnOnnxRuntimeEngineAndRefusesTensorRtWithoutAGpu() {
    Path engine = dir.resolve("engine");

    assertThat(
            run(
                "build-engine",
                "--backend",
                "onnxruntime",
                "--model",
                encoder.toString(),
                "--dense",
                encoder.toString(),
                "--out",
                engine.toString(),
                "--batch",
                "1,2,4",
                "--sequence",
                "1,8,16",
                "--json"))
        .isZero();
    assertThat(out.toString()).contains("\"backend\":\"onnxruntime\"").contains("\"speedup\":");
    assertThat(engine.resolve("model.onnx")).exists();

    assertThat(
            run(
                "build-engine",
                "--backend",
                "tensorrt",
                "--model",
                encoder.toString(),
                "--dense",
                encoder.toString(),
                "--out",
                engine.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("needs an NVIDIA GPU");
    assertThat(
            run(
                "build-engine",
                "--backend",
                "onnxruntime",
                "--model",
                encoder.toString(),
                "--dense",
                encoder.toString(),
                "--out",
                engine.toString(),
                "--batch",
                "8,2,4"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--batch takes min,opt,max");
  }

  @Test
  void readsAndFetchesInputsOverHttpAndNamesAMissingOne() throws Exception {
    var server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          Path file = dir.resolve(exchange.getRequestURI().getPath().substring(1));
          byte[] body = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
          exchange.sendResponseHeaders(
              Files.exists(file) ? 200 : 404, body.length == 0 ? -1 : body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    try {
      assertThat(run("verify", "--model", base + "enc.onnx", "--json")).isZero();
      assertThat(out.toString()).contains("\"layers\":2");

      assertThat(run("verify", "--model", base + "missing.onnx")).isEqualTo(2);
      assertThat(err.toString()).contains("cannot fetch " + base + "missing.onnx: HTTP 404");

      // fetch: how an inference pod's init container gets a model that is not on a PVC.
      Path copy = dir.resolve("models/model.onnx");
      assertThat(run("fetch", "--from", base + "enc.onnx", "--out", copy.toString(), "--json"))
          .isZero();
      assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(encoder));
      assertThat(out.toString()).contains("\"bytes\":" + Files.size(encoder));
      assertThat(run("fetch", "--from", base + "gone.onnx", "--out", copy.toString())).isEqualTo(2);
      assertThat(err.toString()).contains("cannot fetch " + base + "gone.onnx: HTTP 404");

      // A TensorRT plan comes with its key, which the pod checks against its GPU; none, no plan.
      Files.write(dir.resolve("model.plan"), new byte[] {1, 2, 3});
      Files.writeString(dir.resolve("model.plan.key.json"), "{\"device\":\"NVIDIA A100\"}");
      Path plan = dir.resolve("pod/model.plan");
      assertThat(run("fetch", "--from", base + "model.plan", "--out", plan.toString())).isZero();
      assertThat(dir.resolve("pod/model.plan.key.json")).hasContent("{\"device\":\"NVIDIA A100\"}");
      Files.delete(dir.resolve("model.plan.key.json"));
      assertThat(run("fetch", "--from", base + "model.plan", "--out", plan.toString()))
          .isEqualTo(2);
      assertThat(err.toString()).contains(base + "model.plan.key.json");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void notAnOnnxFileIsBadInput() throws Exception {
    Path text = Files.writeString(dir.resolve("x.onnx"), "hello");

    assertThat(run("verify", "--model", text.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("is not an ONNX model");
  }

  @Test
  void aTruncatedModelIsBadInput() throws Exception {
    byte[] bytes = Files.readAllBytes(encoder);
    Path cut = Files.write(dir.resolve("cut.onnx"), Arrays.copyOf(bytes, bytes.length - 1000));

    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                cut.toString(),
                "--out",
                dir.resolve("o.onnx").toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("truncated");
  }

  @Test
  void aModelWithoutPrunableLayersIsBadInput() {
    ModelProto.Builder model = TinyModels.textEncoder(16, 8, 12, 1).toBuilder();
    model.getGraphBuilder().removeNode(3).removeNode(1);
    Path file = TinyModels.write(model.build(), dir.resolve("none.onnx"));

    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                file.toString(),
                "--out",
                dir.resolve("o.onnx").toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("no prunable layers");
    assertThat(dir.resolve("o.onnx")).doesNotExist();
  }

  @Test
  void missingAndEmptyCalibrationFilesAreBadInput() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.txt"), "\n  \n");

    assertThat(sparseGptWith(dir.resolve("missing.txt"))).isEqualTo(2);
    assertThat(err.toString()).contains("calibration file not found");
    assertThat(sparseGptWith(empty)).isEqualTo(2);
    assertThat(err.toString()).contains("holds no sentences");
  }

  @Test
  void aTokenizerThatDoesNotMatchTheModelIsBadInput() {
    Path small = TinyModels.write(TinyModels.textEncoder(100, 8, 12, 1), dir.resolve("s.onnx"));

    assertThat(
            run(
                "evaluate",
                "--dense",
                small.toString(),
                "--candidate",
                small.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--data",
                sentences.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("tokenizer does not match the model");
  }

  @Test
  void aTokenizerFileThatIsNotATokenizerIsBadInput() throws Exception {
    Path bogus = Files.writeString(dir.resolve("bogus.json"), "{\"not\": \"a tokenizer\"}");

    assertThat(
            run(
                "evaluate",
                "--dense",
                encoder.toString(),
                "--candidate",
                encoder.toString(),
                "--tokenizer",
                bogus.toString(),
                "--data",
                sentences.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("is not a Hugging Face tokenizer.json");
  }

  @Test
  void anUnknownMethodIsAUsageError() {
    assertThat(run("prune", "--method", "random", "--model", "m", "--out", "o")).isEqualTo(2);
    assertThat(err.toString()).contains("--method");
  }

  private int sparseGptWith(Path calibration) {
    return run(
        "prune",
        "--method",
        "sparsegpt",
        "--model",
        encoder.toString(),
        "--out",
        dir.resolve("o.onnx").toString(),
        "--tokenizer",
        tokenizer.toString(),
        "--calibration",
        calibration.toString());
  }

  @Test
  void finetuneRefusesWhatIsNotBuiltYetOrContradictoryWithTheReason() {
    assertThat(finetune("--no-distillation")).isEqualTo(2);
    assertThat(err.toString())
        .contains("--no-distillation trains on the task loss alone")
        .contains("needs --labels");
    assertThat(finetune("--qat", "int4")).isEqualTo(2);
    assertThat(err.toString()).contains("--qat takes int8, got int4");
    assertThat(finetune("--init", encoder.toString(), "--progressive")).isEqualTo(2);
    assertThat(err.toString()).contains("--progressive prunes the dense weights itself");
    assertThat(finetune("--init", encoder.toString(), "--exclude", "pooler")).isEqualTo(2);
    assertThat(err.toString()).contains("--init is pruned already");
  }

  @Test
  void finetunesOnATaskLossFromLabelsAndRefusesLabelsThatDoNotFit() throws Exception {
    List<String> lines = new ArrayList<>();
    List<String> classes = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      boolean sparse = i % 2 == 0;
      lines.add(sparse ? "Sparse kernel number " + i + " skips zeros." : "Dense layer " + i + ".");
      classes.add(sparse ? "sparse" : "dense");
    }
    Path train = Files.write(dir.resolve("train.txt"), lines);
    Path labels = Files.write(dir.resolve("labels.txt"), classes);
    Path tuned = dir.resolve("task.onnx");
    String[] args = {
      "finetune",
      "--dense",
      encoder.toString(),
      "--tokenizer",
      tokenizer.toString(),
      "--train",
      train.toString(),
      "--held-out",
      sentences.toString(),
      "--out",
      tuned.toString(),
      "--labels",
      labels.toString(),
      "--no-distillation",
      "--steps",
      "4",
      "--batch-size",
      "4",
      "--eval-every",
      "2",
      "--json"
    };

    assertThat(run(args)).isZero();
    assertThat(out.toString()).contains("\"steps\":4").contains("\"finalFidelity\"");
    assertThat(run("verify", "--model", tuned.toString(), "--json")).isZero();
    assertThat(out.toString()).contains("\"violationCount\":0");

    Files.write(labels, classes.subList(0, 3));
    assertThat(run(args)).isEqualTo(2);
    assertThat(err.toString()).contains("--labels holds 3 labels for 16 --train sentences");
    Files.write(labels, java.util.Collections.nCopies(16, "dense"));
    assertThat(run(args)).isEqualTo(2);
    assertThat(err.toString()).contains("--labels names a single class (dense)");
  }

  private int finetune(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "finetune",
                "--dense",
                encoder.toString(),
                "--tokenizer",
                "tokenizer.json",
                "--train",
                "train.txt",
                "--out",
                dir.resolve("tuned.onnx").toString()));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
