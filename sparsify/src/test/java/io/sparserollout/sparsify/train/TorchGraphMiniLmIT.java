package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/** The real all-MiniLM-L6-v2 run by the libtorch interpreter gives ONNX Runtime's output. */
class TorchGraphMiniLmIT {
  private static final Path WORK = Path.of(System.getProperty("work.dir"));

  @Test
  void miniLmForwardMatchesOnnxRuntime() throws Exception {
    Files.createDirectories(WORK);
    Path model = copy("all-minilm-l6-v2.onnx");
    Path tokenizer = copy("all-minilm-l6-v2-tokenizer.json");
    TokenBatch batch;
    try (TextTokenizer tokens = TextTokenizer.load(tokenizer, 128)) {
      batch =
          tokens.encode(
              List.of(
                  "Sparse models keep two of every four weights.",
                  "The operator rolls out a canary and watches its agreement.",
                  "short"));
    }
    float[] expected;
    try (OrtModel ort = OrtModel.open(model, 1)) {
      expected = ort.run(batch, Set.of(ort.firstOutput())).values().iterator().next().data();
    }
    // Its 13 layer normalizations and 6 GELUs run as single operators (Fusions).
    assertThat(Fusions.fuse(OnnxModel.load(model).proto().getGraph()))
        .extracting(n -> n.getOpType())
        .filteredOn(op -> op.equals("LayerNormalization") || op.equals("Gelu"))
        .hasSize(19)
        .filteredOn("Gelu"::equals)
        .hasSize(6);
    try (PointerScope scope = new PointerScope();
        TorchGraph graph = TorchGraph.of(OnnxModel.load(model))) {
      long start = System.nanoTime();
      var out = graph.forward(graph.feeds(batch), List.of()).values().iterator().next();
      float[] actual = TorchTensors.toFloats(out);
      double worst = 0;
      for (int i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      }
      System.out.printf(
          "torch interpreter vs ONNX Runtime on MiniLM: max |diff| %.2e over %d values, forward %d ms%n",
          worst, expected.length, (System.nanoTime() - start) / 1_000_000);
      assertThat(actual).hasSize(expected.length);
      assertThat(worst).isLessThan(1e-3);
    }
  }

  private static Path copy(String name) throws Exception {
    Path target = WORK.resolve(name);
    if (!Files.exists(target)) {
      try (InputStream in = TorchGraphMiniLmIT.class.getClassLoader().getResourceAsStream(name)) {
        Files.copy(in, target);
      }
    }
    return target;
  }
}
