package io.sparserollout.sparsify.text;

import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** A sentences file: one sample per line; blank lines are ignored. */
public final class Sentences {
  private Sentences() {}

  public static List<String> read(Path file, String role) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new SparsifyException(role + " file not found: " + file);
    } catch (IOException e) {
      throw new SparsifyException("cannot read " + role + " file " + file + ": " + e.getMessage());
    }
    List<String> sentences = lines.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (sentences.isEmpty()) {
      throw new SparsifyException(role + " file " + file + " holds no sentences");
    }
    return sentences;
  }

  /** All but the first {@code count} sentences. */
  public static List<String> skip(List<String> sentences, int count) {
    if (count >= sentences.size()) {
      throw new SparsifyException(
          "no sentences left after skipping " + count + " of " + sentences.size());
    }
    return sentences.subList(Math.max(0, count), sentences.size());
  }

  /** The first {@code limit} sentences (all of them when limit <= 0). */
  public static List<String> first(List<String> sentences, int limit) {
    return limit <= 0 || limit >= sentences.size() ? sentences : sentences.subList(0, limit);
  }
}
