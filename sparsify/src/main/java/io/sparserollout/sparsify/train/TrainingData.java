package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * The training samples in batches (tokenized sentences, or tensors), and when labels were given
 * each sentence's class, batch by batch ({@code classes} empty: unlabelled, no task loss). Step
 * {@code s} trains on batch {@code (s - 1) mod size}.
 */
public record TrainingData(List<Batch> batches, List<String> classes, List<int[]> labels) {

  public static TrainingData unlabelled(List<? extends Batch> batches) {
    return new TrainingData(List.copyOf(batches), List.of(), List.of());
  }

  /**
   * Batches of tensors, unlabelled, in an order shuffled with a fixed seed (a resumed run sees the
   * same order).
   */
  public static TrainingData ofTensors(List<TensorBatch> batches, long seed) {
    List<Batch> shuffled = new ArrayList<>(batches);
    Collections.shuffle(shuffled, new Random(seed));
    return unlabelled(shuffled);
  }

  /**
   * Sentences of similar length share a batch (little compute spent on padding); the batches are
   * shuffled with a fixed seed so lengths mix over the schedule and a resumed run sees the same
   * order. {@code labels}: one per sentence (the caller checks the count), or null.
   */
  public static TrainingData of(
      TextTokenizer tokens, List<String> sentences, List<String> labels, int batchSize, long seed) {
    if (labels != null && labels.size() != sentences.size()) {
      throw new IllegalArgumentException(labels.size() + " labels for " + sentences.size());
    }
    List<String> classes = labels == null ? List.of() : List.copyOf(new TreeSet<>(labels));
    if (labels != null && classes.size() < 2) {
      throw new SparsifyException(
          "--labels names a single class (" + classes.get(0) + "): a task loss needs two or more");
    }
    List<Integer> order = tokens.orderByLength(sentences);
    List<Batch> batches = new ArrayList<>();
    List<int[]> batchLabels = new ArrayList<>();
    for (int start = 0; start < order.size(); start += batchSize) {
      List<Integer> slice = order.subList(start, Math.min(start + batchSize, order.size()));
      batches.add(tokens.encode(slice.stream().map(sentences::get).toList()));
      if (labels != null) {
        batchLabels.add(
            slice.stream()
                .mapToInt(i -> Collections.binarySearch(classes, labels.get(i)))
                .toArray());
      }
    }
    List<Integer> shuffled = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      shuffled.add(i);
    }
    Collections.shuffle(shuffled, new Random(seed));
    return new TrainingData(
        shuffled.stream().map(batches::get).toList(),
        classes,
        labels == null ? List.of() : shuffled.stream().map(batchLabels::get).toList());
  }

  boolean labelled() {
    return !classes.isEmpty();
  }

  /** The batch a step (1-based) trains on. */
  Batch batch(int step) {
    return batches.get((step - 1) % batches.size());
  }

  /** The classes of that batch's sentences. */
  int[] labels(int step) {
    return labels.get((step - 1) % labels.size());
  }
}
