package io.sparserollout.stage;

import java.util.List;

/**
 * {@code sparsify finetune}: sparse fine-tuning with distillation from the dense teacher. {@code
 * init} (the pruned model, whose zeros are the masks) is absent when a progressive schedule prunes
 * the dense weights itself; {@code include}/{@code exclude} apply only then. {@code task}: what the
 * model's first output is (null: read from it; a ranker's samples are pairs, so it is said).
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
    String report,
    Worker worker,
    ModelTask task)
    implements StageArgs {

  /**
   * One of several data-parallel workers: {@code rank} of {@code workers}, meeting worker 0 at
   * {@code master} (HOST:PORT). Null: one worker.
   */
  public record Worker(int rank, int workers, String master) {}

  /** The same command for one worker of a set. */
  public FineTuneArgs withWorker(Worker worker) {
    return new FineTuneArgs(
        dense,
        init,
        tokenizer,
        train,
        out,
        steps,
        batchSize,
        learningRate,
        qatInt8,
        include,
        exclude,
        progressive,
        labels,
        distillation,
        expectSha256,
        report,
        worker,
        task);
  }

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
        .option(Cli.WORKERS, worker == null ? null : worker.workers())
        .option(Cli.RANK, worker == null ? null : worker.rank())
        .option(Cli.MASTER, worker == null ? null : worker.master())
        .option(Cli.TASK, task == null ? null : task.word())
        .report(report);
  }
}
