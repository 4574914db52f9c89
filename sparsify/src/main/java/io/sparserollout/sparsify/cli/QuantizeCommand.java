package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.quantize.QuantizeReport;
import io.sparserollout.sparsify.quantize.QuantizeRun;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "quantize",
    description = "int8 post-training quantization with explicit Q/DQ nodes (TensorRT style).")
final class QuantizeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private final io.sparserollout.sparsify.store.Locations locations =
      new io.sparserollout.sparsify.store.Locations();

  @Option(names = "--model", required = true)
  String model;

  @Option(names = "--out", required = true)
  String out;

  @Option(names = "--tokenizer", required = true)
  String tokenizer;

  @Option(names = "--calibration", required = true, description = "sentences file")
  String calibration;

  @Option(
      names = "--percentile",
      defaultValue = "99.99",
      description = "activation range: this percentile of |x| (default ${DEFAULT-VALUE})")
  double percentile;

  @Option(names = "--samples", defaultValue = "128")
  int samples;

  @Option(names = "--max-length", defaultValue = "128")
  int maxLength;

  @Option(names = "--batch-size", defaultValue = "32")
  int batchSize;

  @Option(names = "--threads", defaultValue = "2")
  int threads;

  @Option(names = "--report", description = "write the full JSON report here")
  String report;

  @Option(names = "--json", description = "print the result as JSON on stdout")
  boolean json;

  @Override
  public Integer call() {
    OnnxModel onnx = OnnxModel.load(locations.input(model));
    List<String> sentences =
        Sentences.first(Sentences.read(locations.input(calibration), "calibration"), samples);
    List<TokenBatch> batches;
    try (TextTokenizer tok = TextTokenizer.load(locations.input(tokenizer), maxLength)) {
      batches = tok.batchesByLength(sentences, batchSize);
    }
    Vocabulary.check(onnx, batches);
    QuantizeReport result =
        QuantizeRun.run(
            onnx,
            batches,
            percentile,
            threads,
            locations.output(out),
            line -> {
              spec.commandLine().getErr().println(line);
              spec.commandLine().getErr().flush();
            });
    Output.report(locations.output(report), result);
    locations.publish();
    if (json) {
      Output.json(
          spec.commandLine().getOut(),
          Map.of(
              "output", out,
              "layersQuantized", result.layersQuantized(),
              "activationsCalibrated", result.activationsCalibrated(),
              "percentile", result.percentile(),
              "opsetBefore", result.opsetBefore(),
              "opsetAfter", result.opsetAfter(),
              "skipped", Output.firstFew(result.skipped()),
              "seconds", result.seconds()));
    } else {
      spec.commandLine()
          .getOut()
          .printf(
              "int8: quantized %d layers, %d activation ranges at the %.2f percentile, opset %d ->"
                  + " %d, in %.1f s -> %s%n",
              result.layersQuantized(),
              result.activationsCalibrated(),
              result.percentile(),
              result.opsetBefore(),
              result.opsetAfter(),
              result.seconds(),
              out);
    }
    return 0;
  }
}
