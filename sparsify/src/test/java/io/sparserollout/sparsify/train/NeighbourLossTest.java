package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.assertj.core.data.Offset;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class NeighbourLossTest {
  private static final Tensor ANCHORS =
      Tensor.create(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6f, 0.8f, 0}, 4, 3);

  @Test
  void isZeroWhenTheStudentRanksTheAnchorsAsTheTeacherDoes() {
    Tensor teacher = Tensor.create(new float[] {0.9f, 0.3f, 0.1f, 0.1f, 0.2f, 0.9f}, 2, 3);
    Tensor scaled = teacher.mul(new org.bytedeco.pytorch.Scalar(3f)); // length does not matter

    assertThat(Distillation.neighbours(scaled, teacher, ANCHORS).item_float())
        .isCloseTo(0f, Offset.offset(1e-5f));
  }

  @Test
  void growsWhenTheNearestAnchorChangesAndPullsTheStudentBack() {
    Tensor teacher = Tensor.create(new float[] {1f, 0.05f, 0f}, 1, 3);
    Tensor student = Tensor.create(new float[] {0.05f, 1f, 0f}, 1, 3).requires_grad_(true);

    Tensor loss = Distillation.neighbours(student, teacher, ANCHORS);
    loss.backward();

    assertThat(loss.item_float()).isGreaterThan(1f);
    float[] gradient = TorchTensors.toFloats(student.grad());
    assertThat(gradient[0]).isNegative(); // descent moves the student towards the first anchor
    assertThat(gradient[1]).isPositive();
  }
}
