package io.sparserollout.stage;

import java.util.List;

/** {@code sparsify quantize}: int8 post-training quantization with explicit Q/DQ. */
public record QuantizeArgs(
    String model,
    String out,
    String tokenizer,
    String calibration,
    double percentile,
    int maxLength,
    String expectSha256,
    String report,
    String capturedPart,
    String alsoCaptured,
    ModelTask task)
    implements StageArgs {

  /** Of a model whose samples are single sentences (every task but ranking). */
  public QuantizeArgs(
      String model,
      String out,
      String tokenizer,
      String calibration,
      double percentile,
      int maxLength,
      String expectSha256,
      String report,
      String capturedPart,
      String alsoCaptured) {
    this(
        model,
        out,
        tokenizer,
        calibration,
        percentile,
        maxLength,
        expectSha256,
        report,
        capturedPart,
        alsoCaptured,
        null);
  }

  @Override
  public List<String> toArgs() {
    return new Line(Cli.QUANTIZE)
        .option(Cli.MODEL, model)
        .option(Cli.OUT, out)
        .option(Cli.TOKENIZER, tokenizer)
        .option(Cli.CALIBRATION, calibration)
        .option(Cli.PERCENTILE, percentile)
        .option(Cli.MAX_LENGTH, maxLength)
        .option(Cli.EXPECT_SHA256, expectSha256)
        .option(Cli.CAPTURED_PART, capturedPart)
        .option(Cli.ALSO_CAPTURED, alsoCaptured)
        .option(Cli.TASK, task != null && task.pairs() ? task.word() : null)
        .report(report);
  }
}
