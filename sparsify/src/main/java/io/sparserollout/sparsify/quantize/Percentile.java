package io.sparserollout.sparsify.quantize;

/**
 * Counts absolute values of one activation in a histogram and answers a percentile of them. Memory
 * stays fixed however many values come (a convolution's activations over many images run to
 * billions): the bins are the float's exponent and its 9 leading mantissa bits, so a percentile is
 * answered to within 0.2% of the value, rounded up (a range a little wide, never clipping what the
 * exact value would keep), far below one int8 step.
 */
final class Percentile {
  /** Bits of a positive float's pattern dropped: 23 mantissa bits less the 9 kept. */
  private static final int SHIFT = 14;

  private final long[] counts = new long[(Float.floatToRawIntBits(Float.MAX_VALUE) >>> SHIFT) + 1];
  private long size;

  void addAbsolute(float[] data, int from, int length) {
    for (int i = 0; i < length; i++) {
      float value = Math.abs(data[from + i]);
      if (Float.isNaN(value)) {
        continue; // no range can hold it; ONNX Runtime's Q/DQ would not either
      }
      int bin = Float.floatToRawIntBits(Math.min(value, Float.MAX_VALUE)) >>> SHIFT;
      counts[bin]++;
      size++;
    }
  }

  /**
   * The value below which {@code percent} of the collected values lie (nearest rank), as the upper
   * edge of its bin.
   */
  float at(double percent) {
    if (size == 0) {
      return 0f;
    }
    long rank = Math.max(1, Math.min(size, (long) Math.ceil(percent / 100.0 * size)));
    long seen = 0;
    for (int bin = 0; bin < counts.length; bin++) {
      seen += counts[bin];
      if (seen >= rank) {
        int upper = Math.min(((bin + 1) << SHIFT) - 1, Float.floatToRawIntBits(Float.MAX_VALUE));
        return Float.intBitsToFloat(upper);
      }
    }
    return Float.MAX_VALUE;
  }
}
