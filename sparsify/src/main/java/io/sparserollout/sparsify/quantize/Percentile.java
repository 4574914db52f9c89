package io.sparserollout.sparsify.quantize;

import java.util.Arrays;

/** Collects absolute values of one activation and answers a percentile of them. */
final class Percentile {
  private float[] values = new float[1 << 16];
  private int size;

  void addAbsolute(float[] data, int from, int length) {
    if (size + length > values.length) {
      values = Arrays.copyOf(values, Math.max(values.length * 2, size + length));
    }
    for (int i = 0; i < length; i++) {
      values[size++] = Math.abs(data[from + i]);
    }
  }

  /** The value below which {@code percent} of the collected values lie (nearest rank). */
  float at(double percent) {
    if (size == 0) {
      return 0f;
    }
    float[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(percent / 100.0 * size) - 1;
    return sorted[Math.max(0, Math.min(size - 1, rank))];
  }
}
