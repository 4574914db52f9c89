package io.sparserollout.stage;

import java.util.List;

/**
 * {@code sparsify evaluate}: dense against candidate on held-out sentences ({@code offset} skips
 * those calibration used when the data is the calibration file); each extra variant is compared
 * with the dense model on the same sentences. With named {@code sets}, each set is evaluated in
 * turn and {@code data}, {@code labels} and {@code offset} are absent. {@code task} says how
 * outputs are compared (null: embedding).
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
    String capturedPart,
    List<HeldOutSet> sets,
    ModelTask task)
    implements StageArgs {

  /** An embedding model's evaluation, as before tasks. */
  public EvaluateArgs(
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
      String capturedPart,
      List<HeldOutSet> sets) {
    this(
        dense,
        candidate,
        tokenizer,
        data,
        samples,
        topK,
        maxLength,
        offset,
        labels,
        expectSha256,
        variants,
        report,
        capturedPart,
        sets,
        null);
  }

  /**
   * One named held-out set: a sentences file or a folder of captured samples, its labels, and the
   * leading sentences to skip (those calibration used).
   */
  public record HeldOutSet(String name, String data, String labels, Integer offset) {}

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
        .option(Cli.TASK, task == null || task == ModelTask.EMBEDDING ? null : task.word())
        .option(Cli.OFFSET, offset)
        .option(Cli.LABELS, labels)
        .option(Cli.EXPECT_SHA256, expectSha256)
        .list(
            Cli.VARIANT,
            variants == null ? null : variants.stream().map(VariantModel::option).toList())
        .list(Cli.VARIANT_SHA256, BuildEngineArgs.shas(variants))
        .option(Cli.CAPTURED_PART, capturedPart)
        .list(Cli.SET, named(HeldOutSet::data))
        .list(Cli.SET_LABELS, named(HeldOutSet::labels))
        .list(Cli.SET_OFFSET, named(HeldOutSet::offset))
        .report(report);
  }

  /** {@code name=value} of each set that has the value; null without sets. */
  private List<String> named(java.util.function.Function<HeldOutSet, Object> value) {
    if (sets == null) {
      return null;
    }
    return sets.stream()
        .filter(set -> value.apply(set) != null)
        .map(set -> set.name() + "=" + value.apply(set))
        .toList();
  }
}
