package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.assertj.core.data.Offset;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class LearningRateTest {
  @Test
  void eachPhaseWarmsUpOverItsFirstTenthThenDecaysToZero() {
    FineTuner.Phase phase = new FineTuner.Phase(2, 1001, 2000);
    assertThat(FineTuner.learningRateScale(phase, 1001)).isCloseTo(0.01, Offset.offset(1e-9));
    assertThat(FineTuner.learningRateScale(phase, 1100)).isEqualTo(1.0);
    assertThat(FineTuner.learningRateScale(phase, 1550)).isCloseTo(0.5, Offset.offset(1e-9));
    assertThat(FineTuner.learningRateScale(phase, 2000)).isEqualTo(0.0);
  }

  @Test
  void theScheduledRateIsTheOneTheOptimizerSteps() {
    Tensor weight = torch.ones(4).requires_grad_(true);
    AdamW optimizer = new AdamW(new TensorVector(weight), new AdamWOptions(0.1)); // built at 0.1
    FineTuner.setLearningRate(optimizer, 0.0);
    step(optimizer, weight);
    assertThat(values(weight)).containsOnly(1f); // at rate 0 nothing moves

    FineTuner.setLearningRate(optimizer, 0.1);
    step(optimizer, weight);
    for (float v : values(weight)) {
      assertThat(v).isLessThan(0.95f); // AdamW's first step moves each weight by about the rate
    }
  }

  private static void step(AdamW optimizer, Tensor weight) {
    optimizer.zero_grad();
    weight.sum().backward();
    optimizer.step();
  }

  private static float[] values(Tensor weight) {
    return TorchTensors.toFloats(weight.detach());
  }
}
