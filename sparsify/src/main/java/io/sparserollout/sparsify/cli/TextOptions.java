package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.CapturedSamples;
import io.sparserollout.sparsify.text.NpzFile;
import io.sparserollout.sparsify.text.Pairs;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.CapturedData;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** How sentences become model inputs, and how many threads ONNX Runtime gets. */
final class TextOptions {
  @Option(names = Cli.MAX_LENGTH, defaultValue = "128", description = "tokens per sentence")
  int maxLength;

  @Option(names = Cli.BATCH_SIZE, defaultValue = "32", description = "sentences per batch")
  int batchSize;

  @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads")
  int threads;

  @Option(
      names = Cli.TASK,
      defaultValue = "embedding",
      description =
          "embedding: the first output mean-pooled over tokens; classification: the first output"
              + " as logits [batch, classes]; ranking: samples are query<TAB>document pairs in the"
              + " tokenizer's pair encoding, the first output a score per pair [batch, 1]; tensor:"
              + " .npz samples, every float output compared as it is (cosine per output, largest"
              + " absolute difference)")
  String task;

  @Option(
      names = Cli.CAPTURED_PART,
      defaultValue = "all",
      description =
          "where the data is a folder of captured samples: all, calibration or held-out (the"
              + " two never overlap)")
  String capturedPart;

  @Option(
      names = Cli.ALSO_CAPTURED,
      description =
          "a folder of captured samples to read besides the sentences file: half the samples from"
              + " each (calibration)")
  String alsoCaptured;

  /** The task of --task, or a clear refusal. */
  ModelTask task() {
    return task(task);
  }

  /** The task named on the command line, or a clear refusal. */
  static ModelTask task(String word) {
    try {
      return ModelTask.of(word);
    } catch (IllegalArgumentException e) {
      throw new SparsifyException(Cli.TASK + ": " + e.getMessage());
    }
  }

  /** A stage's input samples, batched, and what of captured data they came from (else null). */
  record Samples(List<? extends Batch> batches, int count, CapturedData captured) {}

  /**
   * The samples of a sentences file (tokenized) or of a folder of captured samples (token ids as
   * served; the tokenizer is not needed).
   *
   * @param skip leading sentences of a file to leave out (a folder's parts never overlap instead)
   * @param limit most samples (0: all)
   * @param byLength group samples of similar length (less padding) where order does not matter
   */
  Samples samples(
      Path tokenizer, Path location, String role, int skip, int limit, boolean byLength) {
    return samples(tokenizer, location, null, role, skip, limit, byLength);
  }

  /**
   * @param alsoCaptured captured samples read besides a sentences file: the first half of {@code
   *     limit} from it, the rest from the file (all of both when limit is 0)
   */
  Samples samples(
      Path tokenizer,
      Path location,
      Path alsoCaptured,
      String role,
      int skip,
      int limit,
      boolean byLength) {
    if (NpzFile.isNpz(location)) {
      return tensors(location, alsoCaptured, role, skip, limit);
    }
    if (alsoCaptured != null && !CapturedSamples.isCaptured(location)) {
      return mixed(tokenizer, location, alsoCaptured, role, limit, byLength);
    }
    if (CapturedSamples.isCaptured(location)) {
      if (skip > 0) {
        throw new SparsifyException(
            "--offset and --set-offset skip sentences of a file; captured samples are split by"
                + " --captured-part");
      }
      CapturedSamples.Read read =
          CapturedSamples.read(location, CapturedData.Part.of(capturedPart), limit, maxLength);
      return new Samples(
          CapturedSamples.batches(read.rows(), batchSize, byLength),
          read.rows().size(),
          read.data());
    }
    if (tokenizer == null) {
      throw new SparsifyException(role + " from a sentences file needs --tokenizer");
    }
    List<String> sentences =
        Sentences.first(Sentences.skip(Sentences.read(location, role), skip), limit);
    checkPairs(sentences, role);
    return new Samples(batches(tokenizer, sentences, byLength), sentences.size(), null);
  }

  /** Samples given as tensors, for a model without a tokenizer: the tokenizer is not read. */
  private Samples tensors(Path file, Path alsoCaptured, String role, int skip, int limit) {
    if (task().pairs()) {
      throw new SparsifyException(
          role + ": a ranker reads query<TAB>document lines, not tensors (" + file + ")");
    }
    if (alsoCaptured != null) {
      throw new SparsifyException(
          Cli.ALSO_CAPTURED
              + " mixes captured token ids into a sentences file; "
              + file
              + " holds tensors");
    }
    Map<String, NpzFile.Array> arrays = NpzFile.read(file, role);
    int total = NpzFile.samples(arrays);
    if (skip >= total) {
      throw new SparsifyException(
          role + ": the offset " + skip + " leaves none of the " + total + " samples of " + file);
    }
    List<TensorBatch> batches = NpzFile.batches(arrays, skip, limit, batchSize);
    return new Samples(batches, batches.stream().mapToInt(TensorBatch::size).sum(), null);
  }

  /** A ranker's lines must each be one pair; refused with the line otherwise. */
  void checkPairs(List<String> lines, String role) {
    if (task().pairs()) {
      Pairs.check(lines, role);
    }
  }

  private Samples mixed(
      Path tokenizer, Path file, Path captured, String role, int limit, boolean byLength) {
    if (tokenizer == null) {
      throw new SparsifyException(role + " from a sentences file needs --tokenizer");
    }
    CapturedSamples.Read read =
        CapturedSamples.read(
            captured,
            CapturedData.Part.of(capturedPart),
            limit > 0 ? (limit + 1) / 2 : 0,
            maxLength);
    List<String> sentences =
        Sentences.first(
            Sentences.read(file, role), limit > 0 ? Math.max(1, limit - read.rows().size()) : 0);
    checkPairs(sentences, role);
    List<CapturedSamples.TokenRow> rows = new java.util.ArrayList<>(read.rows());
    try (TextTokenizer tok = TextTokenizer.load(tokenizer, maxLength, task().pairs())) {
      for (String sentence : sentences) {
        TokenBatch one = tok.encode(List.of(sentence));
        rows.add(new CapturedSamples.TokenRow(one.ids(), one.attentionMask(), one.typeIds()));
      }
    }
    return new Samples(
        CapturedSamples.batches(rows, batchSize, byLength), rows.size(), read.data());
  }

  /**
   * @param byLength group sentences of similar length (less padding) where order does not matter
   */
  List<TokenBatch> batches(Path tokenizer, List<String> sentences, boolean byLength) {
    try (TextTokenizer tok = TextTokenizer.load(tokenizer, maxLength, task().pairs())) {
      return byLength
          ? tok.batchesByLength(sentences, batchSize)
          : tok.batches(sentences, batchSize);
    }
  }
}
