package io.sparserollout.serving.protocol;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Tensor data as raw little-endian bytes: the binary tensor data extension and TensorRT's device
 * buffers both take this form. BYTES elements are a 4-byte length and the UTF-8 bytes, as in
 * Triton; BOOL one byte each.
 */
public final class RawTensors {
  private RawTensors() {}

  /** The data as a new little-endian array. */
  public static byte[] bytes(Object data) {
    ByteBuffer raw = ByteBuffer.allocate(size(data)).order(ByteOrder.LITTLE_ENDIAN);
    put(raw, data);
    return raw.array();
  }

  /** Bytes of the tensor's data in raw form. */
  public static int size(Object data) {
    if (data instanceof String[] strings) {
      int size = 0;
      for (String s : strings) {
        size += 4 + s.getBytes(StandardCharsets.UTF_8).length;
      }
      return size;
    }
    return Array.getLength(data) * width(data);
  }

  static int width(Object data) {
    return data instanceof long[] || data instanceof double[]
        ? 8
        : data instanceof float[] || data instanceof int[] ? 4 : data instanceof short[] ? 2 : 1;
  }

  /** Puts the data at the buffer's position (little-endian order set by the caller). */
  public static void put(ByteBuffer raw, Object data) {
    int n = Array.getLength(data);
    if (data instanceof float[] f) {
      raw.asFloatBuffer().put(f);
    } else if (data instanceof double[] d) {
      raw.asDoubleBuffer().put(d);
    } else if (data instanceof long[] l) {
      raw.asLongBuffer().put(l);
    } else if (data instanceof int[] i) {
      raw.asIntBuffer().put(i);
    } else if (data instanceof short[] s) {
      raw.asShortBuffer().put(s);
    } else if (data instanceof byte[] b) {
      raw.put(b);
      return;
    } else if (data instanceof String[] strings) {
      for (String s : strings) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        raw.putInt(utf8.length).put(utf8);
      }
      return;
    } else {
      for (boolean z : (boolean[]) data) {
        raw.put((byte) (z ? 1 : 0));
      }
      return;
    }
    raw.position(raw.position() + n * width(data));
  }
}
