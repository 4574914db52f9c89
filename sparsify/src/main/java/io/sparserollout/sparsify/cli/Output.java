package io.sparserollout.sparsify.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.Cli;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** JSON results: compact on stdout (fits a 4 KB termination message), full in a report file. */
final class Output {
  static final int TERMINATION_MESSAGE_LIMIT = Cli.TERMINATION_MESSAGE_LIMIT;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Output() {}

  static void report(Path file, Object full) {
    if (file == null) {
      return;
    }
    try {
      Path absolute = file.toAbsolutePath();
      Files.createDirectories(absolute.getParent());
      JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValue(absolute.toFile(), full);
    } catch (IOException e) {
      throw new SparsifyException("cannot write report " + file + ": " + e.getMessage(), e);
    }
  }

  static void json(PrintWriter out, Object compact) {
    try {
      String text = JSON.writeValueAsString(compact);
      if (text.length() > TERMINATION_MESSAGE_LIMIT) {
        throw new IllegalStateException("compact result exceeds 4 KB: " + text.length());
      }
      out.println(text);
      out.flush();
      terminationMessage(text);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the termination message file when running as a Kubernetes container. */
  static void terminationMessage(String text) {
    String file = System.getenv(Cli.TERMINATION_LOG_ENV);
    if (file == null || file.isBlank()) {
      return;
    }
    try {
      Files.writeString(
          Path.of(file),
          text.length() > TERMINATION_MESSAGE_LIMIT
              ? text.substring(0, TERMINATION_MESSAGE_LIMIT)
              : text);
    } catch (IOException e) {
      System.err.println(
          "sparsify: cannot write termination message to " + file + ": " + e.getMessage());
    }
  }

  static <T> java.util.List<T> firstFew(java.util.List<T> items) {
    return items.size() <= 10 ? items : items.subList(0, 10);
  }
}
