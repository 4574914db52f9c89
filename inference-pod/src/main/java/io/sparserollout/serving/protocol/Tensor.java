package io.sparserollout.serving.protocol;

import java.util.Arrays;

/**
 * A named tensor: datatype, shape and row-major data in the primitive array of its datatype
 * (boolean[], byte[], short[], int[], long[], float[] or double[]; FP16 as short[] of
 * half-precision bits, BYTES as String[]).
 */
public record Tensor(String name, Datatype datatype, long[] shape, Object data) {

  public static long elements(long[] shape) {
    return Arrays.stream(shape).reduce(1, Math::multiplyExact);
  }
}
