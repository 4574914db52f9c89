package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.eval.Evaluator;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.EvaluationResult;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = Cli.EVALUATE,
    description = "Compare a candidate model with the dense one on the same sentences.")
final class EvaluateCommand implements Callable<Integer> {
  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.DENSE, required = true)
  String dense;

  @Option(names = Cli.CANDIDATE, required = true)
  String candidate;

  @Option(names = Cli.TOKENIZER, required = true)
  String tokenizer;

  @Option(names = Cli.DATA, required = true, description = "sentences file, one per line")
  String data;

  @Option(
      names = Cli.LABELS,
      description = "labels file, one per sentence: adds accuracy, NDCG, PNR")
  String labels;

  @Option(names = Cli.TOP_K, defaultValue = "5", description = "k of NDCG@k")
  int topK;

  @Option(names = Cli.SAMPLES, defaultValue = "0", description = "sentences used (0: all)")
  int samples;

  @Option(
      names = Cli.OFFSET,
      defaultValue = "0",
      description =
          "skip this many leading sentences (and labels), e.g. those used for calibration")
  int offset;

  @Option(
      names = Cli.EXPECT_SHA256,
      description = "refuse a --candidate whose SHA-256 differs (the digest its stage reported)")
  String expectSha256;

  @Option(
      names = Cli.VARIANT,
      description = "name=model: compare this variant with the dense model too")
  Map<String, String> variants;

  @Option(
      names = Cli.VARIANT_SHA256,
      description = "name=sha256: refuse a variant's model whose SHA-256 differs")
  Map<String, String> variantSha256;

  @Override
  public Integer call() {
    TextOptions.Samples read =
        text.samples(
            run.input(tokenizer), run.input(data), "evaluation data", offset, samples, false);
    if (read.count() < 2) {
      throw new SparsifyException("evaluation needs at least 2 sentences");
    }
    if (read.captured() != null && labels != null) {
      throw new SparsifyException(
          "captured samples have no labels: evaluate them without --labels (fidelity only)");
    }
    List<TokenBatch> batches = read.batches();
    Path densePath = run.input(dense);
    Path candidatePath = run.input(candidate, expectSha256);
    Vocabulary.check(OnnxModel.load(densePath), batches);
    OnnxModel.load(candidatePath); // a clear message for a corrupt candidate before any run
    Map<String, Path> variantPaths = new LinkedHashMap<>();
    if (variants != null) {
      variants.forEach(
          (name, location) -> {
            Path path = run.input(location, variantSha256 == null ? null : variantSha256.get(name));
            OnnxModel.load(path);
            variantPaths.put(name, path);
          });
    }
    List<String> labelLines = labels == null ? null : lines(labels, "labels");
    EvaluationResult result =
        Evaluator.evaluate(
                densePath, candidatePath, variantPaths, batches, labelLines, topK, text.threads)
            .withCaptured(read.captured());
    run.finish(result, result, console -> summarize(console, result));
    return 0;
  }

  private List<String> lines(String location, String role) {
    return Sentences.first(
        Sentences.skip(Sentences.read(run.input(location), role), offset), samples);
  }

  private static void summarize(java.io.PrintWriter out, EvaluationResult result) {
    var f = result.fidelity();
    out.printf(
        "%d sentences: cosine mean %.4f (min %.4f, p5 %.4f), top-1 NN agreement %.3f, top-5"
            + " overlap %.3f%n",
        result.samples(),
        f.cosineMean(),
        f.cosineMin(),
        f.cosineP5(),
        f.top1Agreement(),
        f.top5Overlap());
    if (result.task() != null) {
      var d = result.task().dense();
      var c = result.task().candidate();
      out.printf(
          "accuracy %.3f -> %.3f, NDCG@%d %.3f -> %.3f, PNR %.2f -> %.2f (dense -> candidate)%n",
          d.accuracy(), c.accuracy(), result.task().k(), d.ndcg(), c.ndcg(), d.pnr(), c.pnr());
    }
    out.printf(
        "dense %.1f sentences/s, candidate %.1f sentences/s (batch %d, %d threads)%n",
        result.dense().sentencesPerSecond(),
        result.candidate().sentencesPerSecond(),
        result.dense().batchSize(),
        result.dense().threads());
    if (result.variants() != null) {
      for (var variant : result.variants()) {
        out.printf(
            "  %-12s cosine mean %.4f, top-5 overlap %.3f%n",
            variant.name(), variant.fidelity().cosineMean(), variant.fidelity().top5Overlap());
      }
    }
  }
}
