package io.sparserollout.stage;

import java.util.List;

/**
 * {@code sparsify finetune}: sparse fine-tuning with distillation from the dense teacher. {@code
 * init} (the pruned model, whose zeros are the masks) is absent when a progressive schedule prunes
 * the dense weights itself; {@code include}/{@code exclude} apply only then.
 */
public record FineTuneArgs(
    String dense,
    String init,
    String tokenizer,
    String train,
    String out,
    int steps,
    int batchSize,
    double learningRate,
    boolean qatInt8,
    List<String> include,
    List<String> exclude,
    boolean progressive,
    String labels,
    boolean distillation,
    String expectSha256,
    String report)
    implements StageArgs {

  @Override
  public List<String> toArgs() {
    return new Line(Cli.FINETUNE)
        .option(Cli.DENSE, dense)
        .option(Cli.INIT, init)
        .option(Cli.TOKENIZER, tokenizer)
        .option(Cli.TRAIN, train)
        .option(Cli.OUT, out)
        .option(Cli.STEPS, steps)
        .option(Cli.BATCH_SIZE, batchSize)
        .option(Cli.LEARNING_RATE, learningRate)
        .option(Cli.QAT, qatInt8 ? "int8" : null)
        .list(Cli.INCLUDE, include)
        .list(Cli.EXCLUDE, exclude)
        .flag(Cli.PROGRESSIVE, progressive)
        .option(Cli.LABELS, labels)
        .flag(Cli.NO_DISTILLATION, !distillation)
        .option(Cli.EXPECT_SHA256, expectSha256)
        .report(report);
  }
}
