package io.sparserollout.sparsify.prune;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseGptPrunerTest {
  @TempDir Path dir;

  /**
   * SparseGPT for convolutions: each Conv calibrated on its unfolded input keeps the 2:4 pattern
   * along input channels and reconstructs the model's output better than magnitude pruning.
   */
  @Test
  void convolutionsCalibratedOnTheirUnfoldedInputBeatMagnitude() {
    Path file = TinyModels.write(TinyModels.textCnn(200, 16, 32, 4), dir.resolve("cnn.onnx"));
    List<TokenBatch> calibration = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      calibration.add(batch(new Random(i), 8, 12));
    }
    List<String> messages = new ArrayList<>();
    OnnxModel sparseGpt = OnnxModel.load(file);
    List<PrunableLayer> layers = LayerFinder.all().find(sparseGpt).prunable();
    assertThat(layers).extracting(PrunableLayer::opType).containsExactly("Conv", "Conv");
    new SparseGptPruner(calibration, 1, messages::add).prune(sparseGpt, layers);
    OnnxModel magnitude = OnnxModel.load(file);
    new MagnitudePruner().prune(magnitude, layers);

    for (PrunableLayer layer : layers) {
      float[] w = sparseGpt.floats(layer.weight());
      assertThat(TwoFour.violatingGroups(w, layer)).isZero();
      assertThat(TwoFour.zeroFraction(w)).isEqualTo(0.5);
    }
    assertThat(messages).noneMatch(m -> m.contains("by magnitude"));
    TokenBatch heldOut = batch(new Random(99), 8, 12);
    double sparseGptError = error(OnnxModel.load(file), sparseGpt, heldOut);
    double magnitudeError = error(OnnxModel.load(file), magnitude, heldOut);
    assertThat(sparseGptError).isLessThan(0.8 * magnitudeError);
  }

  /** Squared error of the candidate's last hidden state against the dense model's. */
  private static double error(OnnxModel dense, OnnxModel candidate, TokenBatch batch) {
    try (OrtModel d = OrtModel.open(dense.toBytes(List.of()), "dense", 1);
        OrtModel c = OrtModel.open(candidate.toBytes(List.of()), "candidate", 1)) {
      float[] expected = d.run(batch, Set.of("last_hidden_state")).get("last_hidden_state").data();
      float[] actual = c.run(batch, Set.of("last_hidden_state")).get("last_hidden_state").data();
      double sum = 0;
      for (int i = 0; i < expected.length; i++) {
        sum += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
      }
      return sum;
    }
  }

  private static TokenBatch batch(Random random, int size, int length) {
    long[] ids = new long[size * length];
    long[] mask = new long[size * length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1 + random.nextInt(199);
      mask[i] = 1;
    }
    return new TokenBatch(size, length, ids, mask, new long[size * length]);
  }
}
