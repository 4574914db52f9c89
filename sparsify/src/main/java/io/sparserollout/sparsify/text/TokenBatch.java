package io.sparserollout.sparsify.text;

/** Token ids of a batch of sentences, padded to the longest. Row-major {@code [size, length]}. */
public record TokenBatch(int size, int length, long[] ids, long[] attentionMask, long[] typeIds)
    implements Batch {

  public int tokens() {
    int count = 0;
    for (long m : attentionMask) {
      count += (int) m;
    }
    return count;
  }
}
