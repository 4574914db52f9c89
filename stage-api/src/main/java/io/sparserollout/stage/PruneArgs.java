package io.sparserollout.stage;

import java.util.List;

/** {@code sparsify prune}: 2:4 masks by magnitude or SparseGPT (which needs calibration text). */
public record PruneArgs(
    Method method,
    String model,
    String out,
    int maxLength,
    String tokenizer,
    String calibration,
    Integer samples,
    List<String> include,
    List<String> exclude,
    String report,
    String capturedPart,
    String alsoCaptured,
    ModelTask task)
    implements StageArgs {

  /** Of a model whose samples are single sentences (every task but ranking). */
  public PruneArgs(
      Method method,
      String model,
      String out,
      int maxLength,
      String tokenizer,
      String calibration,
      Integer samples,
      List<String> include,
      List<String> exclude,
      String report,
      String capturedPart,
      String alsoCaptured) {
    this(
        method,
        model,
        out,
        maxLength,
        tokenizer,
        calibration,
        samples,
        include,
        exclude,
        report,
        capturedPart,
        alsoCaptured,
        null);
  }

  public enum Method {
    MAGNITUDE("magnitude"),
    SPARSEGPT("sparsegpt");

    private final String cli;

    Method(String cli) {
      this.cli = cli;
    }

    @Override
    public String toString() {
      return cli;
    }
  }

  @Override
  public List<String> toArgs() {
    return new Line(Cli.PRUNE)
        .option(Cli.METHOD, method)
        .option(Cli.MODEL, model)
        .option(Cli.OUT, out)
        .option(Cli.MAX_LENGTH, maxLength)
        .option(Cli.TOKENIZER, tokenizer)
        .option(Cli.CALIBRATION, calibration)
        .option(Cli.SAMPLES, samples)
        .list(Cli.INCLUDE, include)
        .list(Cli.EXCLUDE, exclude)
        .option(Cli.CAPTURED_PART, capturedPart)
        .option(Cli.ALSO_CAPTURED, alsoCaptured)
        .option(Cli.TASK, task != null && task.pairs() ? task.word() : null)
        .report(report);
  }
}
