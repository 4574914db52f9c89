package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.Cli;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** How sentences become model inputs, and how many threads ONNX Runtime gets. */
final class TextOptions {
  @Option(names = Cli.MAX_LENGTH, defaultValue = "128", description = "tokens per sentence")
  int maxLength;

  @Option(names = Cli.BATCH_SIZE, defaultValue = "32", description = "sentences per batch")
  int batchSize;

  @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads")
  int threads;

  /**
   * @param byLength group sentences of similar length (less padding) where order does not matter
   */
  List<TokenBatch> batches(Path tokenizer, List<String> sentences, boolean byLength) {
    try (TextTokenizer tok = TextTokenizer.load(tokenizer, maxLength)) {
      return byLength
          ? tok.batchesByLength(sentences, batchSize)
          : tok.batches(sentences, batchSize);
    }
  }
}
