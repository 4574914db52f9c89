package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.sparsify.ImageModels;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output term of a classifier's distillation: the class distributions softmax gives. */
class DistillationTest {
  private static final TokenBatch TWO_ROWS =
      new TokenBatch(2, 1, new long[] {5, 6}, new long[] {1, 1}, new long[] {0, 0});

  @TempDir Path dir;

  @Test
  void swappedClassesCostAndAShiftCommonToARowCostsNothing() {
    float[] teacher = {5f, 5.2f, 1f, 2f};

    double swapped = outputLoss(teacher, Tensor.create(new float[] {5.2f, 5f, 1f, 2f}, 2, 2));
    double shifted = outputLoss(teacher, Tensor.create(new float[] {105f, 105.2f, -3f, -2f}, 2, 2));

    // Plain cosine would call the first rows 0.9992 alike; softmax reads them as swapped.
    assertThat(swapped).isGreaterThan(1e-3);
    assertThat(shifted).isCloseTo(0, within(1e-5));
  }

  /**
   * With two classes, rows less their mean are [a, -a]: any two are parallel or opposite, so a
   * cosine of centred logits is 1 or -1 and gives the student no gradient at all.
   */
  @Test
  void twoClassesStillTeachTheStudentWhichWayToMove() {
    float[] teacher = {3f, -3f, -2f, 2f};
    Tensor student = Tensor.create(new float[] {0.5f, -0.5f, -0.1f, 0.1f}, 2, 2);
    student.requires_grad_(true);

    Tensor loss =
        Distillation.loss(
                FineTunerTest.options(false, false),
                Map.of("logits", student),
                Map.of("logits", new OrtModel.FloatTensor(new long[] {2, 2}, teacher)),
                "logits",
                TWO_ROWS,
                ModelTask.CLASSIFICATION,
                1)
            .get(0)
            .sum();
    loss.backward();

    float[] gradient = TorchTensors.toFloats(student.grad());
    // Both rows already pick the teacher's class, less surely: the step raises that class's logit.
    assertThat(gradient[0]).isNegative();
    assertThat(gradient[1]).isPositive();
    assertThat(gradient[2]).isPositive();
    assertThat(gradient[3]).isNegative();
  }

  @Test
  void aModelEndingInSoftmaxIsDistilledOnTheLogitsTheSoftmaxReads() {
    Path classifier = TinyModels.write(ImageModels.classifier(3), dir.resolve("image.onnx"));
    Path encoder =
        TinyModels.write(TinyModels.textEncoder(32, 8, 16, 3), dir.resolve("encoder.onnx"));

    assertThat(Distillation.logits(OnnxModel.load(classifier))).isEqualTo("logits");
    assertThat(Distillation.logits(OnnxModel.load(encoder)))
        .isEqualTo(OnnxModel.load(encoder).proto().getGraph().getOutput(0).getName());
  }

  /**
   * A ranker's one score per pair is distilled pointwise, relative to the spread of the teacher's
   * scores: a shift is an error (clients may threshold scores), and the divisor is the variance.
   */
  @Test
  void aRankersScoresAreDistilledPointwiseRelativeToTheTeachersSpread() {
    float[] teacher = {1f, 3f};
    List<Distillation.Term> same = scoreTerms(teacher, new float[] {1f, 3f}, 4);
    List<Distillation.Term> shifted = scoreTerms(teacher, new float[] {2f, 4f}, 4);

    assertThat(same).hasSize(1);
    assertThat(same.get(0).sum().item_double()).isCloseTo(0, within(1e-9));
    assertThat(shifted.get(0).sum().item_double()).isCloseTo(2, within(1e-6));
    assertThat(shifted.get(0).divisor()).isCloseTo(2 * 4, within(1e-9));
    assertThat(Distillation.scoreVariance(List.<float[][]>of(new float[][] {{1f}, {3f}})))
        .isEqualTo(1.0);
  }

  @Test
  void aRankersFidelityIsTheCorrelationOfItsScoresWithTheTeachers() {
    float[][] teacher = {{1f}, {2f}, {4f}};

    assertThat(Distillation.correlation(new float[] {10f, 20f, 40f}, teacher))
        .isCloseTo(1, within(1e-9));
    assertThat(Distillation.correlation(new float[] {4f, 2f, 1f}, teacher)).isNegative();
    // A student that scores every pair alike tells none apart; a flat teacher gives no measure.
    assertThat(Distillation.correlation(new float[] {5f, 5f, 5f}, teacher)).isZero();
    assertThat(Distillation.correlation(new float[] {1f, 2f, 3f}, new float[][] {{2f}, {2f}, {2f}}))
        .isNaN();
  }

  private static List<Distillation.Term> scoreTerms(float[] teacher, float[] student, double var) {
    return Distillation.loss(
        FineTunerTest.options(false, false),
        Map.of("score", Tensor.create(student, 2, 1)),
        Map.of("score", new OrtModel.FloatTensor(new long[] {2, 1}, teacher)),
        "score",
        TWO_ROWS,
        ModelTask.RANKING,
        var);
  }

  /** The summed output term of two rows of two logits (no layer terms, no token term). */
  private static double outputLoss(float[] teacher, Tensor student) {
    List<Distillation.Term> terms =
        Distillation.loss(
            FineTunerTest.options(false, false),
            Map.of("logits", student),
            Map.of("logits", new OrtModel.FloatTensor(new long[] {2, 2}, teacher)),
            "logits",
            TWO_ROWS,
            ModelTask.CLASSIFICATION,
            1);
    assertThat(terms).hasSize(1);
    return terms.get(0).sum().item_double();
  }
}
