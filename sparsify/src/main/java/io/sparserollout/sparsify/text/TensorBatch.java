package io.sparserollout.sparsify.text;

import java.nio.Buffer;
import java.util.Map;

/**
 * Inputs given as tensors (an {@code .npz} file) for models without a tokenizer: each named as the
 * model's input it feeds, the first dimension the sample.
 */
public record TensorBatch(int size, Map<String, Input> inputs) implements Batch {

  /**
   * One input: its shape and its values in a buffer of the element type (FloatBuffer, LongBuffer or
   * IntBuffer), row-major.
   */
  public record Input(long[] shape, Buffer values) {}
}
