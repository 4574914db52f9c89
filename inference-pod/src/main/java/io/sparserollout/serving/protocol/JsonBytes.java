package io.sparserollout.serving.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A growable UTF-8 JSON buffer for inference responses. Floats are written straight into it as 9
 * significant digits, which always read back as the same float: a batch of 32 hidden states is 200k
 * floats, and a String per float (what a JSON library does) cost more than the model.
 */
public final class JsonBytes {
  private static final double[] POW10 = new double[120]; // 1e-50 .. 1e69: floats need -31 .. 54
  private static final int POW10_OFFSET = 50;
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ASCII_ZEROS = 0x3030_3030_3030_3030L;
  private static final long ASCII_ZERO_POINT_ZEROS = 0x3030_3030_2E30L; // "0.0000", little-endian

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

  /** The buffer itself, valid up to {@link #size()}: for writing out without a copy. */
  public byte[] array() {
    return bytes;
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
   * arithmetic below adds at most one unit in the ninth digit, still well inside). The 8 digits
   * after the first are made in one long, a digit a byte, and stored with one write: a batch-32
   * response is 200k floats, and this halved their cost (33 to 18 ns a float).
   */
  public JsonBytes number(float value) {
    if (!Float.isFinite(value)) {
      return nonFinite(value);
    }
    ensure(24); // the long writes below may run past the number's end; what follows overwrites
    if (value == 0) {
      return raw(Float.floatToRawIntBits(value) < 0 ? "-0.0" : "0.0");
    }
    byte[] b = bytes;
    int pos = size;
    if (value < 0) {
      b[pos++] = '-';
    }
    double d = Math.abs((double) value);
    int exponent = (Math.getExponent(d) * 78913) >> 18; // floor(log2 * log10(2)): exact or 1 low
    int mantissa = scaled(d, exponent);
    if (mantissa >= 1_000_000_000) { // saturated casts land here too
      exponent++;
      mantissa = scaled(d, exponent);
    } else if (mantissa < 100_000_000) {
      exponent--;
      mantissa = scaled(d, exponent);
    }
    int first = mantissa / 100_000_000;
    int rest = mantissa - first * 100_000_000;
    long restDigits = eightDigits(rest);
    // Trailing zero digits are the zero bytes at the top of the little-endian long.
    int significant = rest == 0 ? 1 : 9 - (Long.numberOfLeadingZeros(restDigits) >>> 3);
    long ascii = restDigits + ASCII_ZEROS;
    if (exponent >= 0 && exponent < 7) { // 1.0 .. 9999999.0: the point goes among the digits
      b[pos] = (byte) ('0' + first);
      int shift = exponent << 3;
      long integer = ascii & ((1L << shift) - 1);
      LONG.set(b, pos + 1, integer | ((long) '.' << shift) | ((ascii - integer) << 8));
      b[pos + 9] = (byte) (ascii >>> 56);
      // At least one fraction digit: a '0' when the value is an integer.
      pos += exponent + 2 + Math.max(significant - exponent - 1, 1);
    } else if (exponent < 0 && exponent >= -3) { // 0.001 .. 0.999
      LONG.set(b, pos, ASCII_ZERO_POINT_ZEROS);
      pos += 1 - exponent;
      b[pos] = (byte) ('0' + first);
      LONG.set(b, pos + 1, ascii);
      pos += significant;
    } else {
      b[pos] = (byte) ('0' + first);
      b[pos + 1] = '.';
      LONG.set(b, pos + 2, ascii);
      pos += 2 + Math.max(significant - 1, 1);
      b[pos++] = 'E';
      size = pos;
      return number(exponent);
    }
    size = pos;
    return this;
  }

  /** d times 10^(8 - exponent), rounded: 9 digits when exponent is d's decimal exponent. */
  private static int scaled(double d, int exponent) {
    return (int) (d * POW10[8 - exponent + POW10_OFFSET] + 0.5);
  }

  /**
   * The decimal digits of a value below 10^8, one a byte, the most significant in the lowest byte
   * (SWAR: two 4-digit halves in 32-bit lanes, split to 2 digits in 16-bit lanes, then to 1).
   */
  static long eightDigits(int value) {
    int high = value / 10_000;
    long lanes = high | ((long) (value - high * 10_000) << 32);
    long hundreds = ((lanes * 10_486) >>> 20) & 0x0000_007F_0000_007FL; // lane / 100 below 10^4
    lanes = hundreds | ((lanes - hundreds * 100) << 16);
    long tens = ((lanes * 103) >>> 10) & 0x000F_000F_000F_000FL; // lane / 10 below 100
    return tens | ((lanes - tens * 10) << 8);
  }

  private JsonBytes nonFinite(double value) {
    // As Jackson writes them by default: JSON has no NaN or Infinity numbers.
    return raw(Double.isNaN(value) ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
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
