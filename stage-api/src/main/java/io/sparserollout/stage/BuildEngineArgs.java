package io.sparserollout.stage;

import java.util.List;

/**
 * {@code sparsify build-engine}: the serving engine, timed against the dense model; with variants,
 * one engine per variant in a folder of its name under {@code out}, all timed alike.
 */
public record BuildEngineArgs(
    String backend,
    String precision,
    String model,
    String dense,
    String out,
    Range batch,
    Range sequence,
    String expectSha256,
    List<VariantModel> variants,
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
        .list(
            Cli.VARIANT,
            variants == null ? null : variants.stream().map(VariantModel::option).toList())
        .list(Cli.VARIANT_SHA256, shas(variants))
        .report(report);
  }

  /** {@code name=sha256} for each variant whose digest is known. */
  static List<String> shas(List<VariantModel> variants) {
    return variants == null
        ? null
        : variants.stream()
            .filter(v -> v.sha256() != null)
            .map(v -> v.name() + "=" + v.sha256())
            .toList();
  }
}
