package io.sparserollout.sparsify.train;

import java.util.Random;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The task loss from labels: a cosine classifier on the student's sentence embeddings (one learned
 * direction per class, logits = scaled cosines), trained with the student by cross-entropy and
 * dropped at export, so the model's outputs keep their shape. Scoring by cosine makes the loss
 * shape what retrieval reads: the angles between embeddings of one class and another.
 */
final class TaskHead {
  /** Cosines span [-1, 1]; scaled so that softmax can be confident (NormFace). */
  static final float LOGIT_SCALE = 20f;

  private final Tensor directions;

  /** Small random directions from a fixed seed: a fresh and a resumed run start alike. */
  TaskHead(int classes, int hidden, long seed) {
    Random random = new Random(seed);
    float[] values = new float[classes * hidden];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian() * 0.02f;
    }
    directions = Tensor.create(values, classes, hidden).requires_grad_(true);
  }

  /** What the optimizer trains (and a checkpoint saves) besides the model's weights. */
  Tensor parameter() {
    return directions;
  }

  /** Cross-entropy of {@code embeddings} [batch, hidden] against their classes, per sentence. */
  Distillation.Term loss(Tensor embeddings, int[] labels, double weight) {
    long[] classes = new long[labels.length];
    for (int i = 0; i < labels.length; i++) {
      classes[i] = labels[i];
    }
    Tensor logits =
        torch
            .normalize(embeddings)
            .matmul(torch.normalize(directions).t())
            .mul(new Scalar(LOGIT_SCALE));
    Tensor sum =
        logits.log_softmax(1).gather(1, Tensor.create(classes, labels.length, 1)).sum().neg();
    return new Distillation.Term(sum, labels.length, weight);
  }
}
