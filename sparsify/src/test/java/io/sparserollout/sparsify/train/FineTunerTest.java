package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.sparsify.verify.Verifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FineTunerTest {
  @Test
  void distillationRecoversFidelityAndKeepsTheMasks(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("tuned.onnx");

    FineTuner.Report report =
        FineTuner.run(
            dense,
            sparse,
            batches(12, 1),
            batches(4, 2),
            out,
            new FineTuner.Options(60, 8, 1e-2, 0.0, 20),
            1,
            line -> {});

    assertThat(report.maskedLayers()).isEqualTo(2);
    assertThat(report.history()).extracting(FineTuner.Checkpoint::step).containsExactly(20, 40, 60);
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    var verified = Verifier.verify(OnnxModel.load(out));
    assertThat(verified.sparseLayers()).isEqualTo(2);
    assertThat(verified.violations()).isEmpty();
  }

  /** Random token ids, some rows padded. */
  private static List<TokenBatch> batches(int count, long seed) {
    Random random = new Random(seed);
    List<TokenBatch> out = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      int size = 8;
      int length = 6;
      long[] ids = new long[size * length];
      long[] mask = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        boolean padded = i % length >= length - (i / length) % 3;
        ids[i] = padded ? 0 : 1 + random.nextInt(31);
        mask[i] = padded ? 0 : 1;
      }
      out.add(new TokenBatch(size, length, ids, mask, new long[ids.length]));
    }
    return out;
  }
}
