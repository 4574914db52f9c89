package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The frozen dense model in ONNX Runtime. For training it answers with its last hidden state and
 * the activations being distilled, one step ahead on its own thread: teacher and student then use
 * two cores at once instead of taking turns.
 */
final class Teacher implements AutoCloseable {
  private final OrtModel model;
  private final Set<String> wanted = new LinkedHashSet<>();
  private final List<Batch> batches;
  private final ExecutorService ahead =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "teacher");
            t.setDaemon(true);
            return t;
          });
  private Future<Map<String, OrtModel.FloatTensor>> next;
  private int nextStep = -1;

  private final String output;
  private final String logits;

  private Teacher(
      OrtModel model, String output, String logits, List<String> distilled, List<Batch> batches) {
    this.model = model;
    this.output = output;
    this.logits = logits;
    this.batches = batches;
    wanted.add(output);
    wanted.add(logits);
    wanted.addAll(distilled);
  }

  /**
   * {@code distilled}: intermediate activations to answer with besides the first output and the
   * logits a classifier's output term reads ({@link Distillation#logits}).
   */
  static Teacher open(Path dense, List<String> distilled, List<Batch> trainBatches, int threads) {
    OnnxModel graph = OnnxModel.load(dense);
    String first = graph.proto().getGraph().getOutput(0).getName();
    String logits = Distillation.logits(graph);
    List<String> extra = new java.util.ArrayList<>(distilled);
    if (!logits.equals(first)) {
      extra.add(logits);
    }
    OrtModel model =
        extra.isEmpty()
            ? OrtModel.open(dense, threads)
            : OrtModel.open(graph.toBytes(extra), "dense teacher " + dense, threads);
    return new Teacher(model, first, logits, distilled, trainBatches);
  }

  /** The first output: what an encoder's and a ranker's output terms compare. */
  String output() {
    return output;
  }

  /**
   * What a classifier's output term compares: the logits a final Softmax reads, else the output.
   */
  String logits() {
    return logits;
  }

  /** The held-out rows fidelity compares: pooled embeddings, or a classifier's logits. */
  float[][] embed(Batch batch) {
    return model.rows(batch);
  }

  /** Whether the dense model is a classifier: logits [batch, classes] as it answers {@code b}. */
  boolean classifier(Batch b) {
    return model.answersWithLogits(b);
  }

  /** The training batch of a step (1-based), cycling through the batches. */
  Batch batch(int step) {
    return batches.get((step - 1) % batches.size());
  }

  /** The teacher's answer for {@code step}'s batch; starts on the next step's at once. */
  Map<String, OrtModel.FloatTensor> answer(int step) {
    Future<Map<String, OrtModel.FloatTensor>> current = step == nextStep ? next : submit(step);
    next = submit(step + 1);
    nextStep = step + 1;
    try {
      return current.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SparsifyException("interrupted while the teacher ran", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new SparsifyException("the teacher failed: " + e.getCause(), e.getCause());
    }
  }

  private Future<Map<String, OrtModel.FloatTensor>> submit(int step) {
    Batch batch = batch(step);
    return ahead.submit(() -> model.run(batch, wanted));
  }

  @Override
  public void close() {
    ahead.shutdownNow();
    model.close();
  }
}
