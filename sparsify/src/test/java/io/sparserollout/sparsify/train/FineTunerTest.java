package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
            FineTuner.Resume.NONE,
            1,
            line -> {});

    assertThat(report.maskedLayers()).isEqualTo(2);
    assertThat(report.history()).extracting(FineTuner.Checkpoint::step).containsExactly(20, 40, 60);
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    var verified = Verifier.verify(OnnxModel.load(out));
    assertThat(verified.sparseLayers()).isEqualTo(2);
    assertThat(verified.violations()).isEmpty();
  }

  @Test
  void aRunKilledMidwayResumesFromItsCheckpointAndEndsTheSame(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    FineTuner.Options options = new FineTuner.Options(60, 8, 1e-2, 0.0, 20);
    double straight =
        FineTuner.run(
                dense,
                sparse,
                batches(12, 1),
                batches(4, 2),
                dir.resolve("a.onnx"),
                options,
                FineTuner.Resume.NONE,
                1,
                line -> {})
            .finalFidelity();

    FineTuner.Resume resume = new FineTuner.Resume(dir.resolve("ckpt"), 20);
    assertThatThrownBy(
            () ->
                FineTuner.run(
                    dense,
                    sparse,
                    batches(12, 1),
                    batches(4, 2),
                    dir.resolve("b.onnx"),
                    options,
                    resume,
                    1,
                    line -> {
                      if (line.startsWith("step 40/")) {
                        throw new IllegalStateException("preempted");
                      }
                    }))
        .hasMessage("preempted");
    assertThat(dir.resolve("ckpt/state.json")).exists();
    List<String> lines = new ArrayList<>();
    FineTuner.Report resumed =
        FineTuner.run(
            dense,
            sparse,
            batches(12, 1),
            batches(4, 2),
            dir.resolve("b.onnx"),
            options,
            resume,
            1,
            lines::add);
    assertThat(lines).contains("resumed from the checkpoint at step 20");
    assertThat(resumed.finalFidelity())
        .isCloseTo(straight, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(dir.resolve("ckpt")).doesNotExist();

    FineTuner.Resume other = new FineTuner.Resume(dir.resolve("other"), 20);
    try {
      java.nio.file.Files.createDirectories(other.directory());
      new com.fasterxml.jackson.databind.ObjectMapper()
          .writeValue(
              other.directory().resolve("state.json").toFile(),
              new Checkpoints.State(20, new FineTuner.Options(99, 8, 1e-2, 0.0, 20), List.of()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThatThrownBy(
            () ->
                FineTuner.run(
                    dense,
                    sparse,
                    batches(12, 1),
                    batches(4, 2),
                    dir.resolve("c.onnx"),
                    options,
                    other,
                    1,
                    line -> {}))
        .hasMessageContaining("from a run with other options");
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
