package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.Sha256;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dense and sparse, float and int8: every variant built, timed alike and compared with dense. */
class VariantCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path dense;
  private Path tokenizer;
  private Path sentences;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void models() throws Exception {
    dense = TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("dense.onnx"));
    tokenizer = dir.resolve("tokenizer.json");
    try (InputStream in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    sentences =
        Files.writeString(
            dir.resolve("s.txt"),
            "The quick brown fox jumps over the lazy dog.\nSparse models run faster.\n"
                + "Pruning keeps two of every four weights.\nTensor cores like structure.\n");
  }

  @Test
  void buildsTimesAndEvaluatesTheFourCpuVariants() throws Exception {
    Path sparse = dir.resolve("sparse.onnx");
    assertThat(run("prune", "--method", "magnitude", "--model", dense + "", "--out", sparse + ""))
        .isZero();
    Path denseInt8 = quantize(dense, "dense-q.onnx");
    Path sparseInt8 = quantize(sparse, "sparse-q.onnx");
    Path engine = dir.resolve("engine");

    assertThat(
            run(
                "build-engine",
                "--backend=onnxruntime",
                "--model=" + sparseInt8,
                "--dense=" + dense,
                "--out=" + engine,
                "--batch=1,2,4",
                "--sequence=1,8,16",
                "--variant=dense-fp32=" + dense,
                "--variant=dense-int8=" + denseInt8,
                "--variant=sparse-fp32=" + sparse,
                "--variant=sparse-int8=" + sparseInt8,
                "--variant-sha256=sparse-int8=" + Sha256.of(sparseInt8),
                "--json"))
        .as(err.toString())
        .isZero();
    EngineResult built = JSON.readValue(out.toString(), EngineResult.class);
    assertThat(built.variants())
        .extracting(EngineResult.VariantEngine::name)
        .containsExactly("dense-fp32", "dense-int8", "sparse-fp32", "sparse-int8");
    for (var variant : built.variants()) {
      Path file = engine.resolve(variant.name()).resolve("model.onnx");
      assertThat(file).exists();
      assertThat(variant.sha256()).isEqualTo(Sha256.of(file));
      // The opt shape, then the max shape.
      assertThat(variant.timings())
          .extracting(EngineResult.Timing::batch, EngineResult.Timing::sequence)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(2, 8),
              org.assertj.core.groups.Tuple.tuple(4, 16));
      assertThat(variant.timings())
          .allSatisfy(
              t -> {
                assertThat(t.runs()).isEqualTo(20);
                assertThat(t.p99Ms()).isGreaterThanOrEqualTo(t.p50Ms()).isPositive();
                assertThat(t.perSecond()).isPositive();
                assertThat(t.spread()).isNotNegative();
              });
      assertThat(variant.sparseLayers()).isEqualTo(variant.name().startsWith("sparse") ? 2 : 0);
    }
    // The top level is the primary variant (--model) against dense fp32.
    assertThat(built.precision()).isEqualTo("int8");
    assertThat(built.sha256()).isEqualTo(built.variants().get(3).sha256());
    assertThat(built.denseLatencyMs()).isEqualTo(built.variants().get(0).timings().get(0).p50Ms());

    assertThat(
            run(
                "evaluate",
                "--dense=" + dense,
                "--candidate=" + sparseInt8,
                "--tokenizer=" + tokenizer,
                "--data=" + sentences,
                "--variant=dense-int8=" + denseInt8,
                "--variant=sparse-fp32=" + sparse,
                "--json"))
        .as(err.toString())
        .isZero();
    EvaluationResult evaluated = JSON.readValue(out.toString(), EvaluationResult.class);
    assertThat(evaluated.variants())
        .extracting(EvaluationResult.VariantQuality::name)
        .containsExactly("dense-int8", "sparse-fp32");
    assertThat(evaluated.variants().get(0).fidelity().cosineMean())
        .isGreaterThan(0.9)
        .isLessThan(1.0001);
  }

  @Test
  void aVariantThatIsNotWhatItsNameSaysIsRefused() throws Exception {
    assertThat(
            run(
                "build-engine",
                "--backend=onnxruntime",
                "--model=" + dense,
                "--dense=" + dense,
                "--out=" + dir.resolve("engine"),
                "--variant=dense-fp32=" + dense,
                "--variant=sparse-int8=" + dense))
        .isEqualTo(2);
    assertThat(err.toString()).contains("variant sparse-int8 is a dense float model");
    assertThat(
            run(
                "build-engine",
                "--backend=onnxruntime",
                "--model=" + dense,
                "--dense=" + dense,
                "--out=" + dir.resolve("engine"),
                "--variant=dense-bf16=" + dense))
        .isEqualTo(2);
    assertThat(err.toString()).contains("variant name dense-bf16");
    assertThat(
            run(
                "build-engine",
                "--backend=onnxruntime",
                "--model=" + dir.resolve("other.onnx"),
                "--dense=" + dense,
                "--out=" + dir.resolve("engine"),
                "--variant=dense-fp32=" + dense))
        .isEqualTo(2);
    assertThat(err.toString()).contains("is none of the --variant models");
  }

  @Test
  void tensorRtVariantsFailFastWithoutAGpu() {
    assertThat(
            run(
                "build-engine",
                "--backend=tensorrt",
                "--model=" + dense,
                "--dense=" + dense,
                "--out=" + dir.resolve("engine"),
                "--variant=dense-fp16=" + dense,
                "--variant=sparse-fp16=" + dense))
        .isEqualTo(2);
    assertThat(err.toString()).contains("needs an NVIDIA GPU");
    assertThat(
            run(
                "build-engine",
                "--backend=tensorrt",
                "--model=" + dense,
                "--dense=" + dense,
                "--out=" + dir.resolve("engine"),
                "--variant=dense-fp32=" + dense))
        .isEqualTo(2);
    assertThat(err.toString()).contains("TensorRT variants are fp16 or int8, not fp32");
  }

  private Path quantize(Path model, String name) {
    Path q = dir.resolve(name);
    assertThat(
            run(
                "quantize",
                "--model=" + model,
                "--out=" + q,
                "--tokenizer=" + tokenizer,
                "--calibration=" + sentences))
        .as(err.toString())
        .isZero();
    return q;
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
