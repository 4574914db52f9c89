package io.sparserollout.serving.protocol;

/**
 * What one request may ask of the model, checked before any tensor is built: rows (the batch
 * dimension) and every other dynamic dimension (the engine's shape profile, so a request cannot ask
 * for a sequence the engine was not built for or attention memory that grows with its square), and
 * elements per input.
 *
 * @param maxRows rows per request where every input's first dimension is the batch
 * @param maxDimension every other dimension the model leaves dynamic
 * @param maxElements values per input
 */
public record RequestLimits(long maxRows, long maxDimension, long maxElements) {
  public static final RequestLimits NONE =
      new RequestLimits(Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE);
}
