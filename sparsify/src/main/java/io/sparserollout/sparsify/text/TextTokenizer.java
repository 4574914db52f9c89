package io.sparserollout.sparsify.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sparserollout.sparsify.SparsifyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face tokenizer.json (through DJL), producing padded batches. Of pairs, each sample is a
 * line {@code query<TAB>document}, encoded as the tokenizer's post-processor encodes a pair (for
 * BERT: {@code [CLS] query [SEP] document [SEP]}, token type 1 for the document).
 */
public final class TextTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final boolean pairs;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, boolean pairs) {
    this.tokenizer = tokenizer;
    this.pairs = pairs;
  }

  public static TextTokenizer load(Path file, int maxLength) {
    return load(file, maxLength, false);
  }

  /** A tokenizer of single sentences, or of (query, document) pairs. */
  public static TextTokenizer load(Path file, int maxLength, boolean pairs) {
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
                  "maxLength", Integer.toString(maxLength))),
          pairs);
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
      lengths[i] = encodeOne(sentences.get(i)).getIds().length;
      order.add(i);
    }
    order.sort(java.util.Comparator.comparingInt(i -> lengths[i]));
    return order;
  }

  public TokenBatch encode(List<String> sentences) {
    Encoding[] encodings = new Encoding[sentences.size()];
    int length = 1;
    for (int i = 0; i < encodings.length; i++) {
      encodings[i] = encodeOne(sentences.get(i));
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

  private Encoding encodeOne(String sample) {
    if (!pairs) {
      return tokenizer.encode(sample);
    }
    String[] pair = Pairs.split(sample);
    return tokenizer.encode(pair[0], pair[1]);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
