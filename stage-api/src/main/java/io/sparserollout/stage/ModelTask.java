package io.sparserollout.stage;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a model's first output means, and so how a candidate is compared with the dense model: an
 * embedding is mean-pooled over the sentence's tokens; a classifier's logits are read as they are;
 * a ranker scores each (query, document) pair, given to it in the tokenizer's pair encoding, and
 * its scores are compared per query; a model of raw outputs (tensor inputs, any outputs) is
 * compared output by output, each sample's values as they are.
 */
public enum ModelTask {
  EMBEDDING,
  CLASSIFICATION,
  RANKING,
  TENSOR;

  /** Whether each sample is a (query, document) pair rather than one sentence. */
  public boolean pairs() {
    return this == RANKING;
  }

  /** The word on sparsify's command line and in the spec. */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The task named by {@code word}; null means the embedding every model had before tasks. */
  public static ModelTask of(String word) {
    if (word == null) {
      return EMBEDDING;
    }
    return Arrays.stream(values())
        .filter(t -> t.word().equals(word))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown task "
                        + word
                        + "; one of embedding, classification, ranking, tensor"));
  }
}
