package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  @TempDir Path dir;

  /**
   * A process killed while writing the next checkpoint (its folder complete or not, the pointer to
   * it not yet replaced) resumes from the previous one, whole: never the new weights with the old
   * step.
   */
  @Test
  void aKillDuringTheNextSaveLeavesThePreviousCheckpointWhole() throws Exception {
    FineTuner.Options options = FineTunerTest.options(false, false);
    Tensor weight = Tensor.create(new float[] {1, 2, 3}, 3);
    AdamW optimizer = new AdamW(new TensorVector(weight), new AdamWOptions(1e-3));
    Checkpoints checkpoints = new Checkpoints(dir);
    checkpoints.save(state(options, 10), List.of(weight), optimizer);

    weight.copy_(Tensor.create(new float[] {7, 8, 9}, 3));
    checkpoints.save(state(options, 20), List.of(weight), optimizer);
    // The kills: one while writing step 30's folder, one after renaming it but before "latest"
    // named it (its weights stand in for new ones: zeros).
    Files.createDirectories(dir.resolve("step-30.tmp"));
    Files.writeString(dir.resolve("step-30.tmp").resolve("weights.pt"), "half a file");
    Files.createDirectories(dir.resolve("step-40"));
    Files.writeString(dir.resolve("step-40").resolve("weights.pt"), "not these");
    assertThat(Files.readString(dir.resolve("latest"))).isEqualTo("step-20");

    Tensor restored = Tensor.create(new float[] {-1, -1, -1}, 3);
    Checkpoints.State resumed =
        new Checkpoints(dir)
            .load(
                options,
                List.of(restored),
                new AdamW(new TensorVector(restored), new AdamWOptions(1e-3)));
    assertThat(resumed.step()).isEqualTo(20);
    assertThat(TorchTensors.toFloats(restored)).containsExactly(7, 8, 9);
    assertThat(dir.resolve("step-10")).doesNotExist();
  }

  private static Checkpoints.State state(FineTuner.Options options, int step) {
    return new Checkpoints.State(step, options, 0.5, List.of(), null);
  }
}
