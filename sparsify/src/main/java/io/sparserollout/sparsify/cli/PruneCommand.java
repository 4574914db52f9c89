package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneReport;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.prune.Pruner;
import io.sparserollout.sparsify.prune.SparseGptPruner;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "prune", description = "Prune the eligible layers of an ONNX model to 2:4.")
final class PruneCommand implements Callable<Integer> {
  enum Method {
    magnitude,
    sparsegpt
  }

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private final io.sparserollout.sparsify.store.Locations locations =
      new io.sparserollout.sparsify.store.Locations();

  @Option(names = "--method", required = true, description = "magnitude or sparsegpt")
  Method method;

  @Option(names = "--model", required = true, description = "dense ONNX model")
  String model;

  @Option(names = "--out", required = true, description = "where the 2:4 model is written")
  String out;

  @Option(names = "--tokenizer", description = "tokenizer.json (sparsegpt)")
  String tokenizer;

  @Option(names = "--calibration", description = "sentences file, one per line (sparsegpt)")
  String calibration;

  @Option(names = "--samples", defaultValue = "128", description = "calibration sentences used")
  int samples;

  @Option(names = "--max-length", defaultValue = "128", description = "tokens per sentence")
  int maxLength;

  @Option(names = "--batch-size", defaultValue = "32")
  int batchSize;

  @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads")
  int threads;

  @Option(names = "--include", split = ",", description = "regexes of weights to prune")
  List<String> include = List.of();

  @Option(names = "--exclude", split = ",", description = "regexes of weights kept dense")
  List<String> exclude = List.of();

  @Option(names = "--report", description = "write the full JSON report here")
  String report;

  @Option(names = "--json", description = "print the result as JSON on stdout")
  boolean json;

  @Override
  public Integer call() {
    OnnxModel onnx = OnnxModel.load(locations.input(model));
    Pruner pruner =
        switch (method) {
          case magnitude -> new MagnitudePruner();
          case sparsegpt -> new SparseGptPruner(calibration(onnx), threads, this::progress);
        };
    PruneReport result =
        PruneRun.run(onnx, new LayerFinder(include, exclude), pruner, locations.output(out))
            .withOutput(out);
    Output.report(locations.output(report), result);
    locations.publish();
    if (json) {
      Output.json(
          spec.commandLine().getOut(),
          Map.of(
              "method", result.method(),
              "output", result.output(),
              "layersPruned", result.layersPruned(),
              "layersSkipped", Output.firstFew(result.layersSkipped()),
              "layersSkippedCount", result.layersSkipped().size(),
              "achievedSparsity", result.achievedSparsity(),
              "seconds", result.seconds()));
    } else {
      spec.commandLine()
          .getOut()
          .printf(
              "%s: pruned %d layers to 2:4 (sparsity %.3f), skipped %d, in %.1f s -> %s%n",
              result.method(),
              result.layersPruned(),
              result.achievedSparsity(),
              result.layersSkipped().size(),
              result.seconds(),
              result.output());
      result
          .layersSkipped()
          .forEach(
              s ->
                  spec.commandLine().getOut().printf("  skipped %s: %s%n", s.weight(), s.reason()));
    }
    return 0;
  }

  private List<TokenBatch> calibration(OnnxModel onnx) {
    if (tokenizer == null || calibration == null) {
      throw new SparsifyException("--method sparsegpt needs --tokenizer and --calibration");
    }
    List<String> sentences =
        Sentences.first(Sentences.read(locations.input(calibration), "calibration"), samples);
    try (TextTokenizer tok = TextTokenizer.load(locations.input(tokenizer), maxLength)) {
      List<TokenBatch> batches = tok.batchesByLength(sentences, batchSize);
      Vocabulary.check(onnx, batches);
      progress("sparsegpt: " + sentences.size() + " calibration sentences");
      return batches;
    }
  }

  private void progress(String line) {
    spec.commandLine().getErr().println(line);
    spec.commandLine().getErr().flush();
  }
}
