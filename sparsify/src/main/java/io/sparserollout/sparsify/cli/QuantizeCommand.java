package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.onnx.ModelInputs;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.quantize.QuantizeReport;
import io.sparserollout.sparsify.quantize.QuantizeRun;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.QuantizeResult;
import io.sparserollout.stage.Sha256;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = Cli.QUANTIZE,
    description = "int8 post-training quantization with explicit Q/DQ nodes (TensorRT style).")
final class QuantizeCommand implements Callable<Integer> {
  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.MODEL, required = true)
  String model;

  @Option(names = Cli.OUT, required = true)
  String out;

  @Option(
      names = Cli.TOKENIZER,
      description = "tokenizer.json (for sentences files; not read for .npz tensors)")
  String tokenizer;

  @Option(
      names = Cli.CALIBRATION,
      required = true,
      description = "sentences file, or an .npz file of tensors")
  String calibration;

  @Option(
      names = Cli.PERCENTILE,
      defaultValue = "99.99",
      description = "activation range: this percentile of |x| (default ${DEFAULT-VALUE})")
  double percentile;

  @Option(names = Cli.SAMPLES, defaultValue = "128")
  int samples;

  @Option(
      names = Cli.EXPECT_SHA256,
      description = "refuse a --model whose SHA-256 differs (the digest its stage reported)")
  String expectSha256;

  @Override
  public Integer call() {
    OnnxModel onnx = OnnxModel.load(run.input(model, expectSha256));
    TextOptions.Samples read =
        text.samples(
            tokenizer == null ? null : run.input(tokenizer),
            run.input(calibration),
            text.alsoCaptured == null ? null : run.input(text.alsoCaptured),
            "calibration",
            0,
            samples,
            true);
    List<? extends Batch> batches = read.batches();
    Vocabulary.check(onnx, batches);
    ModelInputs.check(onnx, batches);
    QuantizeReport result =
        QuantizeRun.run(onnx, batches, percentile, text.threads, run.output(out), run::progress);
    run.finish(
        result,
        new QuantizeResult(
            out,
            result.layersQuantized(),
            result.activationsCalibrated(),
            result.percentile(),
            result.opsetBefore(),
            result.opsetAfter(),
            Output.firstFew(result.skipped()),
            result.seconds(),
            Sha256.of(run.output(out)),
            read.captured()),
        console ->
            console.printf(
                "int8: quantized %d layers, %d activation ranges at the %.2f percentile, opset %d"
                    + " -> %d, in %.1f s -> %s%n",
                result.layersQuantized(),
                result.activationsCalibrated(),
                result.percentile(),
                result.opsetBefore(),
                result.opsetAfter(),
                result.seconds(),
                out));
    return 0;
  }
}
