package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.ModelInputs;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneReport;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.prune.Pruner;
import io.sparserollout.sparsify.prune.SparseGptPruner;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.stage.CapturedData;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.PruneResult;
import io.sparserollout.stage.Sha256;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = Cli.PRUNE, description = "Prune the eligible layers of an ONNX model to 2:4.")
final class PruneCommand implements Callable<Integer> {
  enum Method {
    magnitude,
    sparsegpt
  }

  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.METHOD, required = true, description = "magnitude or sparsegpt")
  Method method;

  @Option(names = Cli.MODEL, required = true, description = "dense ONNX model")
  String model;

  @Option(names = Cli.OUT, required = true, description = "where the 2:4 model is written")
  String out;

  @Option(names = Cli.TOKENIZER, description = "tokenizer.json (sparsegpt)")
  String tokenizer;

  @Option(
      names = Cli.CALIBRATION,
      description = "sentences file, one per line, or an .npz file of tensors (sparsegpt)")
  String calibration;

  @Option(names = Cli.SAMPLES, defaultValue = "128", description = "calibration samples used")
  int samples;

  @Option(names = Cli.INCLUDE, description = "a regex of weights to prune (repeat for more)")
  List<String> include = List.of();

  @Option(names = Cli.EXCLUDE, description = "a regex of weights kept dense (repeat for more)")
  List<String> exclude = List.of();

  /** What of captured samples calibration read, where it read them. */
  private CapturedData captured;

  @Override
  public Integer call() {
    OnnxModel onnx = OnnxModel.load(run.input(model));
    Pruner pruner =
        switch (method) {
          case magnitude -> new MagnitudePruner();
          case sparsegpt -> new SparseGptPruner(calibration(onnx), text.threads, run::progress);
        };
    PruneReport result =
        PruneRun.run(onnx, new LayerFinder(include, exclude), pruner, run.output(out))
            .withOutput(out);
    run.finish(
        result,
        new PruneResult(
            result.method(),
            result.output(),
            result.layersPruned(),
            Output.firstFew(result.layersSkipped()).stream()
                .map(s -> new PruneResult.SkippedLayer(s.weight(), s.reason()))
                .toList(),
            result.layersSkipped().size(),
            result.achievedSparsity(),
            result.seconds(),
            Sha256.of(run.output(out)),
            captured),
        console -> {
          console.printf(
              "%s: pruned %d layers to 2:4 (sparsity %.3f), skipped %d, in %.1f s -> %s%n",
              result.method(),
              result.layersPruned(),
              result.achievedSparsity(),
              result.layersSkipped().size(),
              result.seconds(),
              result.output());
          result
              .layersSkipped()
              .forEach(s -> console.printf("  skipped %s: %s%n", s.weight(), s.reason()));
        });
    return 0;
  }

  private List<? extends Batch> calibration(OnnxModel onnx) {
    if (calibration == null) {
      throw new SparsifyException("--method sparsegpt needs --calibration");
    }
    TextOptions.Samples read =
        text.samples(
            tokenizer == null ? null : run.input(tokenizer),
            run.input(calibration),
            text.alsoCaptured == null ? null : run.input(text.alsoCaptured),
            "calibration",
            0,
            samples,
            true);
    Vocabulary.check(onnx, read.batches());
    ModelInputs.check(onnx, read.batches());
    captured = read.captured();
    run.progress(
        "sparsegpt: "
            + read.count()
            + (captured == null
                ? " calibration samples"
                : " calibration samples, " + captured.samples() + " of them captured"));
    return read.batches();
  }
}
