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

  /**
   * Reads {@code count} elements of the datatype from raw little-endian bytes that must hold
   * exactly them; what the bytes cannot be (a length that does not match, an invalid BOOL or
   * string) is the client's error, named after the input.
   */
  public static Object read(String input, Datatype type, ByteBuffer given, long count) {
    ByteBuffer raw = given.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (type == Datatype.BYTES) {
      return strings(input, raw, count);
    }
    int width = width(type);
    if ((long) raw.remaining() != count * width) {
      throw new BadRequest(
          "input "
              + input
              + " has "
              + raw.remaining()
              + " raw bytes; "
              + count
              + " "
              + type
              + " elements take "
              + count * width);
    }
    int n = (int) count;
    return switch (type) {
      case FP32 -> fill(new float[n], a -> raw.asFloatBuffer().get(a));
      case FP64 -> fill(new double[n], a -> raw.asDoubleBuffer().get(a));
      case INT64 -> fill(new long[n], a -> raw.asLongBuffer().get(a));
      case INT32 -> fill(new int[n], a -> raw.asIntBuffer().get(a));
      case INT16, FP16 -> fill(new short[n], a -> raw.asShortBuffer().get(a));
      case INT8, UINT8 -> fill(new byte[n], raw::get);
      default -> {
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
          byte b = raw.get(i);
          if (b != 0 && b != 1) {
            throw new BadRequest(
                "input " + input + " BOOL element " + i + " is " + b + ", not 0 or 1");
          }
          out[i] = b == 1;
        }
        yield out;
      }
    };
  }

  private static <T> T fill(T array, java.util.function.Consumer<T> reader) {
    reader.accept(array);
    return array;
  }

  private static String[] strings(String input, ByteBuffer raw, long count) {
    if (count > raw.remaining() / 4) {
      throw new BadRequest(
          "input "
              + input
              + " has "
              + raw.remaining()
              + " raw bytes, too few for "
              + count
              + " strings");
    }
    String[] out = new String[(int) count];
    java.nio.charset.CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
    for (int i = 0; i < out.length; i++) {
      int length = raw.remaining() >= 4 ? raw.getInt() : -1;
      if (length < 0 || length > raw.remaining()) {
        throw new BadRequest("input " + input + " string " + i + " overruns its raw bytes");
      }
      ByteBuffer bytes = raw.slice(raw.position(), length);
      raw.position(raw.position() + length);
      try {
        out[i] = utf8.decode(bytes).toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new BadRequest("input " + input + " string " + i + " is not UTF-8");
      }
    }
    if (raw.hasRemaining()) {
      throw new BadRequest(
          "input "
              + input
              + " has "
              + raw.remaining()
              + " raw bytes after its "
              + count
              + " strings");
    }
    return out;
  }

  /** Bytes per element of a fixed-width datatype. */
  public static int width(Datatype type) {
    return switch (type) {
      case INT64, FP64 -> 8;
      case INT32, FP32 -> 4;
      case INT16, FP16 -> 2;
      default -> 1;
    };
  }
}
