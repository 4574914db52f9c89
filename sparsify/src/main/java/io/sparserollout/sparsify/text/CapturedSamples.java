package io.sparserollout.sparsify.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.CapturedData;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The inputs the serving pods captured (the inference pod's capture): a folder of UTC hour folders
 * ({@code yyyy-MM-ddTHH}), each with a file of JSON lines per pod, every line a v2 request of one
 * row. Read newest hour first, so a stage sees the traffic of late. A line is a calibration or a
 * held-out sample by a checksum of its bytes, so the two parts never overlap however the folder
 * grows between the stages that read them.
 */
public final class CapturedSamples {
  private static final Pattern HOUR = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What was read: the rows, and the part of it status reports. */
  public record Read(List<TokenRow> rows, CapturedData data) {}

  /** One captured row's token ids, attention mask and token types, without padding. */
  public record TokenRow(long[] ids, long[] mask, long[] types) {}

  private CapturedSamples() {}

  /** Whether a location is a folder of captured samples rather than a sentences file. */
  public static boolean isCaptured(Path location) {
    return Files.isDirectory(location);
  }

  /**
   * @param limit most rows (0: all)
   * @param maxLength rows longer than this are cut to it
   */
  public static Read read(Path folder, CapturedData.Part part, int limit, int maxLength) {
    List<TokenRow> rows = new ArrayList<>();
    Set<String> foreignInputs = new TreeSet<>();
    int unreadable = 0;
    String first = null;
    String last = null;
    Set<String> seen = new java.util.HashSet<>();
    for (String hour : hoursNewestFirst(folder)) {
      for (Path file : files(folder.resolve(hour))) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) {
              continue;
            }
            Parsed parsed = parse(line, foreignInputs);
            if (parsed == null) {
              unreadable++;
              continue;
            }
            // A popular request captured twice counts once: repeats would flatter the neighbour
            // metrics, and the same row must never be in both halves.
            if (!inPart(parsed.key(), part) || !seen.add(parsed.key())) {
              continue;
            }
            if (limit > 0 && rows.size() >= limit) {
              return done(rows, unreadable, first, last, foreignInputs, folder);
            }
            rows.add(parsed.row(maxLength));
            last = last == null ? hour : last;
            first = hour;
          }
        } catch (java.nio.file.NoSuchFileException gone) {
          // Deleted past retention by a serving pod while this stage read: skip it.
        } catch (IOException e) {
          throw new SparsifyException(
              "cannot read captured samples " + file + ": " + e.getMessage());
        }
      }
    }
    return done(rows, unreadable, first, last, foreignInputs, folder);
  }

  private static Read done(
      List<TokenRow> rows,
      int unreadable,
      String first,
      String last,
      Set<String> foreignInputs,
      Path folder) {
    if (rows.isEmpty()) {
      if (!foreignInputs.isEmpty()) {
        throw new SparsifyException(
            "the captured samples in "
                + folder
                + " carry inputs "
                + foreignInputs
                + "; only a tokenizer's inputs (input_ids, attention_mask, token_type_ids) can"
                + " calibrate or evaluate yet");
      }
      throw new SparsifyException(
          "no captured samples to read in "
              + folder
              + (unreadable > 0 ? " (" + unreadable + " unreadable lines)" : "")
              + ": has capture run long enough, with enough traffic?");
    }
    return new Read(rows, new CapturedData(rows.size(), unreadable, first, last));
  }

  /**
   * Even checksums calibrate, odd ones are held out. The checksum is of the row as the model saw it
   * (padding dropped), so one sentence sent in differently padded batches is one sample.
   */
  static boolean inPart(String key, CapturedData.Part part) {
    if (part == CapturedData.Part.ALL) {
      return true;
    }
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    boolean heldOut = (crc.getValue() & 1) == 1;
    return heldOut == (part == CapturedData.Part.HELD_OUT);
  }

  /** A captured row without the client's padding, and its identity. */
  private record Parsed(long[] ids, long[] mask, long[] types) {
    String key() {
      return java.util.Arrays.toString(ids)
          + java.util.Arrays.toString(mask)
          + java.util.Arrays.toString(types);
    }

    /** Cut as the tokenizer truncates: the first tokens, and the last ([SEP]) kept. */
    TokenRow row(int maxLength) {
      return new TokenRow(cut(ids, maxLength), cut(mask, maxLength), cut(types, maxLength));
    }

    private static long[] cut(long[] values, int maxLength) {
      if (values.length <= maxLength) {
        return values;
      }
      long[] cut = java.util.Arrays.copyOf(values, maxLength);
      cut[maxLength - 1] = values[values.length - 1];
      return cut;
    }
  }

  private static Parsed parse(String line, Set<String> foreignInputs) {
    JsonNode inputs;
    try {
      inputs = JSON.readTree(line).path("inputs");
    } catch (IOException e) {
      return null; // a line torn by a pod stopped mid-write
    }
    long[] ids = null;
    long[] mask = null;
    long[] types = null;
    for (JsonNode input : inputs) {
      String name = input.path("name").asText();
      switch (name) {
        case "input_ids" -> ids = longs(input.path("data"));
        case "attention_mask" -> mask = longs(input.path("data"));
        case "token_type_ids" -> types = longs(input.path("data"));
        default -> foreignInputs.add(name);
      }
    }
    if (ids == null || ids.length == 0) {
      return null;
    }
    boolean masked = mask != null && mask.length == ids.length;
    int length = ids.length;
    if (masked) {
      // A row of a padded batch: its padding is the client's, not the sentence's.
      while (length > 1 && mask[length - 1] == 0) {
        length--;
      }
    }
    long[] rowMask = masked ? java.util.Arrays.copyOf(mask, length) : ones(length);
    long[] rowTypes =
        types != null && types.length == ids.length
            ? java.util.Arrays.copyOf(types, length)
            : new long[length];
    return new Parsed(java.util.Arrays.copyOf(ids, length), rowMask, rowTypes);
  }

  private static long[] ones(int n) {
    long[] ones = new long[n];
    java.util.Arrays.fill(ones, 1);
    return ones;
  }

  private static long[] longs(JsonNode data) {
    if (!data.isArray()) {
      return null;
    }
    long[] values = new long[data.size()];
    for (int i = 0; i < values.length; i++) {
      if (!data.get(i).canConvertToLong()) {
        return null;
      }
      values[i] = data.get(i).asLong();
    }
    return values;
  }

  private static List<String> hoursNewestFirst(Path folder) {
    List<String> hours = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (HOUR.matcher(name).matches() && Files.isDirectory(entry)) {
          hours.add(name);
        }
      }
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot read captured samples in " + folder + ": " + e.getMessage());
    }
    hours.sort(Comparator.reverseOrder());
    return hours;
  }

  private static List<Path> files(Path hour) {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(hour, "*.jsonl")) {
      entries.forEach(files::add);
    } catch (java.nio.file.NoSuchFileException gone) {
      return files; // deleted past retention while this stage read
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot read captured samples in " + hour + ": " + e.getMessage());
    }
    files.sort(Comparator.naturalOrder());
    return files;
  }

  /** Padded batches of rows, shortest first when {@code byLength} (calibration). */
  public static List<TokenBatch> batches(List<TokenRow> rows, int batchSize, boolean byLength) {
    List<TokenRow> ordered = new ArrayList<>(rows);
    if (byLength) {
      ordered.sort(Comparator.comparingInt(r -> r.ids().length));
    }
    List<TokenBatch> batches = new ArrayList<>();
    for (int start = 0; start < ordered.size(); start += batchSize) {
      List<TokenRow> slice = ordered.subList(start, Math.min(start + batchSize, ordered.size()));
      int length = slice.stream().mapToInt(r -> r.ids().length).max().orElse(1);
      long[] ids = new long[slice.size() * length];
      long[] mask = new long[ids.length];
      long[] types = new long[ids.length];
      for (int i = 0; i < slice.size(); i++) {
        TokenRow r = slice.get(i);
        System.arraycopy(r.ids(), 0, ids, i * length, r.ids().length);
        System.arraycopy(r.mask(), 0, mask, i * length, r.mask().length);
        System.arraycopy(r.types(), 0, types, i * length, r.types().length);
      }
      batches.add(new TokenBatch(slice.size(), length, ids, mask, types));
    }
    return batches;
  }
}
