package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.ModelTask;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What one training step minimizes: the distillation terms against the teacher (when distilling)
 * plus, when the training data has labels, the weighted task loss of the student's sentence
 * embeddings.
 */
final class Objective {
  private final FineTuner.Options options;
  private final TorchGraph student;
  private final Teacher teacher;
  private final TrainingData data;
  private final TaskHead head;
  private final DataParallel parallel;
  private final ModelTask task;
  private final double scoreVariance;

  /**
   * {@code head}: null without labels; {@code parallel} sums the loss's divisors over workers;
   * {@code task} picks the output term; {@code scoreVariance}: the scale of a ranker's score term
   * ({@link Distillation#scoreTerm}).
   */
  Objective(
      FineTuner.Options options,
      TorchGraph student,
      Teacher teacher,
      TrainingData data,
      TaskHead head,
      DataParallel parallel,
      ModelTask task,
      double scoreVariance) {
    this.options = options;
    this.student = student;
    this.teacher = teacher;
    this.data = data;
    this.head = head;
    this.parallel = parallel;
    this.task = task;
    this.scoreVariance = scoreVariance;
  }

  Tensor loss(int step) {
    Batch batch = data.batch(step);
    if (!options.distillation()) {
      return Distillation.combine(
          List.of(head.loss(Distillation.pooled(student, batch), data.labels(step), 1)), parallel);
    }
    String compared = task == ModelTask.CLASSIFICATION ? teacher.logits() : teacher.output();
    Map<String, OrtModel.FloatTensor> expected = new LinkedHashMap<>(teacher.answer(step));
    // Of the first output and the logits, only the one the output term compares.
    expected
        .keySet()
        .removeIf(
            name ->
                !name.equals(compared)
                    && (name.equals(teacher.output()) || name.equals(teacher.logits())));
    Map<String, Tensor> actual =
        student.forward(student.feeds(batch), List.copyOf(expected.keySet()));
    List<Distillation.Term> terms =
        new ArrayList<>(
            Distillation.loss(options, actual, expected, compared, batch, task, scoreVariance));
    if (head != null) {
      Tensor embeddings =
          Distillation.pool(
              actual.get(teacher.output()), Distillation.mask((TokenBatch) batch)); // labels: text
      terms.add(head.loss(embeddings, data.labels(step), options.taskLossWeight()));
    }
    return Distillation.combine(terms, parallel);
  }
}
