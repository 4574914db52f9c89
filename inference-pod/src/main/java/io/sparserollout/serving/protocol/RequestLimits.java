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
 * @param minRows rows a request must carry at least (a TensorRT profile's minimum batch)
 * @param minDimension what every other dynamic dimension must be at least (the profile's minimum
 *     sequence): below it the engine cannot run the request, which is the client's 400, not a
 *     failed run counted against a canary
 */
public record RequestLimits(
    long maxRows, long maxDimension, long maxElements, long minRows, long minDimension) {
  public static final RequestLimits NONE =
      new RequestLimits(Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE);

  public RequestLimits(long maxRows, long maxDimension, long maxElements) {
    this(maxRows, maxDimension, maxElements, 0, 0);
  }
}
