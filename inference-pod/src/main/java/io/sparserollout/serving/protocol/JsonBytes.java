package io.sparserollout.serving.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.Arrays;

/**
 * A growable UTF-8 JSON buffer for inference responses. Floats are written straight into it as 9
 * significant digits, which always read back as the same float: a batch of 32 hidden states is 200k
 * floats, and a String per float (what a JSON library does) cost more than the model.
 */
public final class JsonBytes {
  private static final double[] POW10 = new double[120]; // 1e-50 .. 1e69: floats need -31 .. 54
  private static final int POW10_OFFSET = 50;

  static {
    for (int k = -POW10_OFFSET; k < POW10.length - POW10_OFFSET; k++) {
      POW10[k + POW10_OFFSET] = Double.parseDouble("1e" + k); // correctly rounded
    }
  }

  private byte[] bytes;
  private int size;

  public JsonBytes(int capacity) {
    bytes = new byte[Math.max(16, capacity)];
  }

  public int size() {
    return size;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(bytes, size);
  }

  public JsonBytes raw(char c) {
    ensure(1);
    bytes[size++] = (byte) c;
    return this;
  }

  public JsonBytes raw(String ascii) {
    ensure(ascii.length());
    for (int i = 0; i < ascii.length(); i++) {
      bytes[size++] = (byte) ascii.charAt(i);
    }
    return this;
  }

  public JsonBytes raw(byte[] utf8) {
    ensure(utf8.length);
    System.arraycopy(utf8, 0, bytes, size, utf8.length);
    size += utf8.length;
    return this;
  }

  /** A JSON string, quoted and escaped. */
  public JsonBytes string(String value) {
    return raw('"').raw(JsonStringEncoder.getInstance().quoteAsUTF8(value)).raw('"');
  }

  public JsonBytes number(long value) {
    ensure(20);
    if (value < 0) {
      if (value == Long.MIN_VALUE) {
        return raw(Long.toString(value));
      }
      bytes[size++] = '-';
      value = -value;
    }
    return digits(value, digitCount(value));
  }

  public JsonBytes number(double value) {
    return Double.isFinite(value) ? raw(Double.toString(value)) : nonFinite(value);
  }

  /**
   * The shortest form is not needed for an exact round trip: any decimal within half a float ulp
   * reads back as the same float, and 9 significant digits are always that close (the double
   * arithmetic below adds at most one unit in the ninth digit, still well inside).
   */
  public JsonBytes number(float value) {
    if (!Float.isFinite(value)) {
      return nonFinite(value);
    }
    ensure(16);
    if (value == 0) {
      return raw(Float.floatToRawIntBits(value) < 0 ? "-0.0" : "0.0");
    }
    if (value < 0) {
      bytes[size++] = '-';
    }
    double d = Math.abs((double) value);
    int exponent = (int) Math.floor(Math.getExponent(d) * 0.30102999566398120);
    long mantissa = Math.round(d * POW10[8 - exponent + POW10_OFFSET]);
    if (mantissa >= 1_000_000_000L) {
      exponent++;
      mantissa = Math.round(d * POW10[8 - exponent + POW10_OFFSET]);
    } else if (mantissa < 100_000_000L) {
      exponent--;
      mantissa = Math.round(d * POW10[8 - exponent + POW10_OFFSET]);
    }
    int digits = 9;
    while (mantissa % 10 == 0 && digits > 1) {
      mantissa /= 10;
      digits--;
    }
    if (exponent >= 0 && exponent < 7) {
      if (digits <= exponent + 1) { // an integer: digits, zeros, ".0"
        digits(mantissa, digits);
        for (int i = digits; i <= exponent; i++) {
          bytes[size++] = '0';
        }
        bytes[size++] = '.';
        bytes[size++] = '0';
      } else {
        int start = size;
        digits(mantissa, digits);
        insertPoint(start + exponent + 1);
      }
    } else if (exponent < 0 && exponent >= -3) {
      bytes[size++] = '0';
      bytes[size++] = '.';
      for (int i = -1; i > exponent; i--) {
        bytes[size++] = '0';
      }
      digits(mantissa, digits);
    } else {
      int start = size;
      digits(mantissa, digits);
      if (digits == 1) {
        bytes[size++] = '.';
        bytes[size++] = '0';
      } else {
        insertPoint(start + 1);
      }
      bytes[size++] = 'E';
      number(exponent);
    }
    return this;
  }

  private JsonBytes nonFinite(double value) {
    // As Jackson writes them by default: JSON has no NaN or Infinity numbers.
    return raw(Double.isNaN(value) ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  }

  private void insertPoint(int at) {
    System.arraycopy(bytes, at, bytes, at + 1, size - at);
    bytes[at] = '.';
    size++;
  }

  private JsonBytes digits(long value, int count) {
    for (int i = size + count - 1; i >= size; i--) {
      bytes[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
    size += count;
    return this;
  }

  private static int digitCount(long value) {
    int count = 1;
    while (value >= 10) {
      value /= 10;
      count++;
    }
    return count;
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }
}
