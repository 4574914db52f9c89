package io.sparserollout.sparsify.text;

import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Samples as tensors in NumPy's {@code .npz} container (what {@code numpy.savez} writes): one array
 * per model input, named after it, the first dimension the sample. Little-endian float32, int64 and
 * int32 in C order are read; anything else is refused naming the array.
 */
public final class NpzFile {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** One array: its shape, element type ({@code <f4}, {@code <i8}, {@code <i4}) and bytes. */
  public record Array(long[] shape, String type, ByteBuffer bytes) {
    int itemSize() {
      return type.equals("<i8") ? 8 : 4;
    }

    long samples() {
      return shape[0];
    }
  }

  private NpzFile() {}

  /** Whether a data location names an {@code .npz} file rather than a text file or a folder. */
  public static boolean isNpz(Path location) {
    return location.getFileName() != null
        && location.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npz");
  }

  /** Every array of the file, by name (the entry's name less {@code .npy}), in file order. */
  public static Map<String, Array> read(Path file, String role) {
    if (!Files.isRegularFile(file)) {
      throw new SparsifyException(role + " file not found: " + file);
    }
    Map<String, Array> arrays = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        if (entry.isDirectory()) {
          continue;
        }
        String name = entry.getName().replaceFirst("\\.npy$", "");
        try (InputStream in = zip.getInputStream(entry)) {
          arrays.put(name, array(readBounded(in, file, name), file, name));
        }
      }
    } catch (ZipException e) {
      throw new SparsifyException(
          role + " " + file + " is not an .npz file (a zip of .npy arrays): " + e.getMessage());
    } catch (IOException e) {
      throw new SparsifyException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (arrays.isEmpty()) {
      throw new SparsifyException(role + " " + file + " holds no arrays");
    }
    long samples = -1;
    for (Map.Entry<String, Array> e : arrays.entrySet()) {
      if (e.getValue().shape().length == 0) {
        throw new SparsifyException(
            file
                + ": array "
                + e.getKey()
                + " is a scalar; each array's first dimension is the"
                + " sample");
      }
      if (samples >= 0 && e.getValue().samples() != samples) {
        throw new SparsifyException(
            file
                + ": arrays disagree on the number of samples (first dimension): "
                + describe(arrays));
      }
      samples = e.getValue().samples();
    }
    if (samples == 0) {
      throw new SparsifyException(role + " " + file + " holds no samples");
    }
    return arrays;
  }

  /** Number of samples: the first dimension the arrays share. */
  public static int samples(Map<String, Array> arrays) {
    return Math.toIntExact(arrays.values().iterator().next().samples());
  }

  /**
   * Batches of the samples from {@code skip} on, at most {@code limit} of them (0: all), in order.
   */
  public static List<TensorBatch> batches(
      Map<String, Array> arrays, int skip, int limit, int batchSize) {
    int total = samples(arrays);
    int end = limit > 0 ? (int) Math.min(total, (long) skip + limit) : total;
    List<TensorBatch> batches = new ArrayList<>();
    for (int start = skip; start < end; start += batchSize) {
      int size = Math.min(batchSize, end - start);
      Map<String, TensorBatch.Input> inputs = new LinkedHashMap<>();
      for (Map.Entry<String, Array> e : arrays.entrySet()) {
        inputs.put(e.getKey(), slice(e.getValue(), start, size));
      }
      batches.add(new TensorBatch(size, inputs));
    }
    return batches;
  }

  /** "name [shape] type" of every array, for messages. */
  public static String describe(Map<String, Array> arrays) {
    List<String> parts = new ArrayList<>();
    arrays.forEach(
        (name, a) -> parts.add(name + " " + Arrays.toString(a.shape()) + " " + a.type()));
    return String.join(", ", parts);
  }

  private static TensorBatch.Input slice(Array array, int start, int size) {
    long[] shape = array.shape().clone();
    shape[0] = size;
    long row = 1;
    for (int d = 1; d < shape.length; d++) {
      row *= shape[d];
    }
    int from = Math.toIntExact(start * row * array.itemSize());
    int length = Math.toIntExact(size * row * array.itemSize());
    ByteBuffer part =
        array
            .bytes()
            .duplicate()
            .position(from)
            .limit(from + length)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer copy = ByteBuffer.allocateDirect(length).order(ByteOrder.nativeOrder());
    Buffer values =
        switch (array.type()) {
          case "<f4" -> copy.asFloatBuffer().put(part.asFloatBuffer()).flip();
          case "<i8" -> copy.asLongBuffer().put(part.asLongBuffer()).flip();
          default -> copy.asIntBuffer().put(part.asIntBuffer()).flip();
        };
    return new TensorBatch.Input(shape, values);
  }

  /** An entry's bytes, refused past what one array can hold (a zip bomb, a 2 GB entry). */
  private static byte[] readBounded(InputStream in, Path file, String name) throws IOException {
    long limit = Math.min(Integer.MAX_VALUE - 16L, Runtime.getRuntime().maxMemory() / 4);
    byte[] data = in.readNBytes((int) limit + 1);
    if (data.length > limit) {
      throw new SparsifyException(
          file + ": array " + name + " is over " + limit + " bytes; split the samples into files");
    }
    return data;
  }

  private static Array array(byte[] data, Path file, String name) {
    String where = file + ": array " + name;
    if (data.length < 12 || !Arrays.equals(Arrays.copyOf(data, 6), MAGIC)) {
      throw new SparsifyException(where + " is not a .npy array (no NUMPY magic)");
    }
    ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int major = data[6];
    if (major < 1 || major > 3) {
      throw new SparsifyException(where + " has a .npy header this reader does not know");
    }
    long headerLength =
        major == 1 ? Short.toUnsignedInt(in.getShort(8)) : Integer.toUnsignedLong(in.getInt(8));
    int headerStart = major == 1 ? 10 : 12;
    if (headerStart + headerLength > data.length) {
      throw new SparsifyException(where + " has a .npy header this reader does not know");
    }
    String header = new String(data, headerStart, (int) headerLength, StandardCharsets.ISO_8859_1);
    String type = group(DESCR, header, where, "descr");
    if (!List.of("<f4", "<i8", "<i4").contains(type)) {
      throw new SparsifyException(
          where
              + " holds "
              + type
              + "; model inputs are read as little-endian float32 (<f4), int64 (<i8) or int32"
              + " (<i4)");
    }
    if (group(FORTRAN, header, where, "fortran_order").equals("True")) {
      throw new SparsifyException(where + " is in Fortran order; save it in C order");
    }
    long[] shape;
    try {
      shape =
          Arrays.stream(group(SHAPE, header, where, "shape").split(","))
              .map(String::trim)
              .filter(s -> !s.isEmpty())
              .mapToLong(Long::parseLong)
              .toArray();
    } catch (NumberFormatException e) {
      throw new SparsifyException(where + " has a shape that is not a tuple of integers");
    }
    long expected = type.equals("<i8") ? 8 : 4;
    try {
      for (long d : shape) {
        if (d < 0) {
          throw new ArithmeticException();
        }
        expected = Math.multiplyExact(expected, d);
      }
    } catch (ArithmeticException e) {
      throw new SparsifyException(
          where + " declares the shape " + Arrays.toString(shape) + ", which no file can hold");
    }
    int offset = Math.toIntExact(headerStart + headerLength);
    if (data.length - offset != expected) {
      throw new SparsifyException(
          where
              + " has "
              + (data.length - offset)
              + " bytes of data where its shape "
              + Arrays.toString(shape)
              + " needs "
              + expected
              + " (truncated?)");
    }
    ByteBuffer bytes = ByteBuffer.wrap(data, offset, (int) expected).slice();
    return new Array(shape, type, bytes);
  }

  private static String group(Pattern pattern, String header, String where, String key) {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new SparsifyException(where + " has no '" + key + "' in its .npy header");
    }
    return m.group(1);
  }
}
