package io.sparserollout.stage;

import java.util.List;

/**
 * {@code sparsify evaluate}: dense against candidate on held-out sentences ({@code offset} skips
 * those calibration used when the data is the calibration file); each extra variant is compared
 * with the dense model on the same sentences.
 */
public record EvaluateArgs(
    String dense,
    String candidate,
    String tokenizer,
    String data,
    int samples,
    int topK,
    int maxLength,
    Integer offset,
    String labels,
    String expectSha256,
    List<VariantModel> variants,
    String report,
    String capturedPart)
    implements StageArgs {

  @Override
  public List<String> toArgs() {
    return new Line(Cli.EVALUATE)
        .option(Cli.DENSE, dense)
        .option(Cli.CANDIDATE, candidate)
        .option(Cli.TOKENIZER, tokenizer)
        .option(Cli.DATA, data)
        .option(Cli.SAMPLES, samples)
        .option(Cli.TOP_K, topK)
        .option(Cli.MAX_LENGTH, maxLength)
        .option(Cli.OFFSET, offset)
        .option(Cli.LABELS, labels)
        .option(Cli.EXPECT_SHA256, expectSha256)
        .list(
            Cli.VARIANT,
            variants == null ? null : variants.stream().map(VariantModel::option).toList())
        .list(Cli.VARIANT_SHA256, BuildEngineArgs.shas(variants))
        .option(Cli.CAPTURED_PART, capturedPart)
        .report(report);
  }
}
