package io.sparserollout.sparsify.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sparserollout.sparsify.SparsifyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A Hugging Face tokenizer.json (through DJL), producing padded batches. */
public final class TextTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;

  private TextTokenizer(HuggingFaceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  public static TextTokenizer load(Path file, int maxLength) {
    if (!Files.isRegularFile(file)) {
      throw new SparsifyException("tokenizer file not found: " + file);
    }
    try {
      return new TextTokenizer(
          HuggingFaceTokenizer.newInstance(
              file,
              Map.of(
                  "truncation", "true",
                  "padding", "false",
                  "maxLength", Integer.toString(maxLength))));
    } catch (Exception | UnsatisfiedLinkError e) {
      throw new SparsifyException(
          file + " is not a Hugging Face tokenizer.json: " + e.getMessage(), e);
    }
  }

  public List<TokenBatch> batches(List<String> sentences, int batchSize) {
    List<TokenBatch> batches = new ArrayList<>();
    for (int start = 0; start < sentences.size(); start += batchSize) {
      List<String> slice = sentences.subList(start, Math.min(start + batchSize, sentences.size()));
      batches.add(encode(slice));
    }
    return batches;
  }

  /**
   * Batches of sentences of similar length, so little compute goes to padding. For calibration,
   * where the order of sentences does not matter.
   */
  public List<TokenBatch> batchesByLength(List<String> sentences, int batchSize) {
    List<String> sorted = new ArrayList<>();
    for (int i : orderByLength(sentences)) {
      sorted.add(sentences.get(i));
    }
    return batches(sorted, batchSize);
  }

  /** Indices of {@code sentences}, shortest in tokens first; equal lengths keep their order. */
  public List<Integer> orderByLength(List<String> sentences) {
    int[] lengths = new int[sentences.size()];
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = tokenizer.encode(sentences.get(i)).getIds().length;
      order.add(i);
    }
    order.sort(java.util.Comparator.comparingInt(i -> lengths[i]));
    return order;
  }

  public TokenBatch encode(List<String> sentences) {
    Encoding[] encodings = new Encoding[sentences.size()];
    int length = 1;
    for (int i = 0; i < encodings.length; i++) {
      encodings[i] = tokenizer.encode(sentences.get(i));
      length = Math.max(length, encodings[i].getIds().length);
    }
    int size = encodings.length;
    long[] ids = new long[size * length];
    long[] mask = new long[size * length];
    long[] types = new long[size * length];
    for (int i = 0; i < size; i++) {
      long[] sentenceIds = encodings[i].getIds();
      System.arraycopy(sentenceIds, 0, ids, i * length, sentenceIds.length);
      System.arraycopy(encodings[i].getAttentionMask(), 0, mask, i * length, sentenceIds.length);
      System.arraycopy(encodings[i].getTypeIds(), 0, types, i * length, sentenceIds.length);
    }
    return new TokenBatch(size, length, ids, mask, types);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
