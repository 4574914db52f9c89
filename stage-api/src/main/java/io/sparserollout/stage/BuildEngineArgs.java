package io.sparserollout.stage;

import java.util.List;

/** {@code sparsify build-engine}: the serving engine, timed against the dense model. */
public record BuildEngineArgs(
    String backend,
    String precision,
    String model,
    String dense,
    String out,
    Range batch,
    Range sequence,
    String expectSha256,
    String report)
    implements StageArgs {

  /** An optimisation profile's min, opt and max. */
  public record Range(int min, int opt, int max) {
    @Override
    public String toString() {
      return min + "," + opt + "," + max;
    }
  }

  @Override
  public List<String> toArgs() {
    return new Line(Cli.BUILD_ENGINE)
        .option(Cli.BACKEND, backend)
        .option(Cli.PRECISION, precision)
        .option(Cli.MODEL, model)
        .option(Cli.DENSE, dense)
        .option(Cli.OUT, out)
        .option(Cli.BATCH, batch)
        .option(Cli.SEQUENCE, sequence)
        .option(Cli.EXPECT_SHA256, expectSha256)
        .report(report);
  }
}
