package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The output term of a classifier's distillation: the logits as softmax reads them. */
class DistillationTest {
  private static final TokenBatch TWO_ROWS =
      new TokenBatch(2, 1, new long[] {5, 6}, new long[] {1, 1}, new long[] {0, 0});

  @Test
  void swappedClassesUnderACommonOffsetAreFarApartAndAShiftCostsNothing() {
    float[] teacher = {5f, 5.2f, 1f, 2f};

    double swapped = outputLoss(teacher, new float[] {5.2f, 5f, 1f, 2f});
    double shifted = outputLoss(teacher, new float[] {105f, 105.2f, -3f, -2f});

    // Plain cosine would call the first rows 0.9992 alike; centred, they are opposed.
    assertThat(swapped).isGreaterThan(1.9);
    assertThat(shifted).isCloseTo(0, within(1e-5));
  }

  /** The summed output term of two rows of two logits (no layer terms, no token term). */
  private static double outputLoss(float[] teacher, float[] student) {
    List<Distillation.Term> terms =
        Distillation.loss(
            FineTunerTest.options(false, false),
            Map.of("logits", Tensor.create(student, 2, 2)),
            Map.of("logits", new OrtModel.FloatTensor(new long[] {2, 2}, teacher)),
            "logits",
            TWO_ROWS);
    assertThat(terms).hasSize(1);
    return terms.get(0).sum().item_double();
  }
}
