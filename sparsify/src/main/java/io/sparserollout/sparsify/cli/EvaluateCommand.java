package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.eval.ClassLabels;
import io.sparserollout.sparsify.eval.Evaluator;
import io.sparserollout.sparsify.onnx.ModelInputs;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.text.Pairs;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.EvaluateArgs;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = Cli.EVALUATE,
    description = "Compare a candidate model with the dense one on the same samples.")
final class EvaluateCommand implements Callable<Integer> {
  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.DENSE, required = true)
  String dense;

  @Option(names = Cli.CANDIDATE, required = true)
  String candidate;

  @Option(
      names = Cli.TOKENIZER,
      description = "tokenizer.json (for sentences files; not read for .npz tensors)")
  String tokenizer;

  @Option(
      names = Cli.DATA,
      description =
          "sentences file, one per line, a folder of captured samples, or an .npz file of"
              + " tensors named after the model's inputs")
  String data;

  @Option(
      names = Cli.LABELS,
      description = "labels file, one per sentence: adds accuracy, NDCG, PNR")
  String labels;

  @Option(names = Cli.TOP_K, defaultValue = "5", description = "k of NDCG@k")
  int topK;

  @Option(names = Cli.SAMPLES, defaultValue = "0", description = "samples used (0: all)")
  int samples;

  @Option(
      names = Cli.OFFSET,
      defaultValue = "0",
      description = "skip this many leading samples (and labels), e.g. those used for calibration")
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

  @Option(
      names = Cli.SET,
      description =
          "name=data: a named held-out set (sentences file or captured folder), evaluated on the"
              + " same models; repeat for each set, instead of --data")
  Map<String, String> sets = new LinkedHashMap<>();

  @Option(names = Cli.SET_LABELS, description = "name=labels: the labels of a named set")
  Map<String, String> setLabels = new LinkedHashMap<>();

  @Option(
      names = Cli.SET_OFFSET,
      description = "name=n: skip a named set's first n samples (and labels)")
  Map<String, Integer> setOffsets = new LinkedHashMap<>();

  @Override
  public Integer call() {
    ModelTask modelTask = text.task();
    List<Evaluator.HeldOut> heldOut = new ArrayList<>();
    for (var set : requestedSets()) {
      heldOut.add(read(set.name(), set.data(), set.labels(), set.offset()));
    }
    if (modelTask == ModelTask.TENSOR) {
      rawOutputsOnly(heldOut);
    }
    Path densePath = run.input(dense);
    Path candidatePath = run.input(candidate, expectSha256);
    OnnxModel denseModel = OnnxModel.load(densePath);
    heldOut.forEach(set -> Vocabulary.check(denseModel, set.batches()));
    heldOut.forEach(set -> ModelInputs.check(denseModel, set.batches()));
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
    EvaluationResult result =
        Evaluator.evaluate(
            densePath,
            candidatePath,
            variantPaths,
            heldOut,
            topK,
            text.threads,
            modelTask,
            modelTask == ModelTask.CLASSIFICATION ? ClassLabels.names(denseModel) : Map.of());
    run.finish(result, result.compact(modelTask), console -> summarize(console, result));
    return 0;
  }

  /** Task tensor compares the raw outputs of tensor samples, not text (labels: the Evaluator). */
  private static void rawOutputsOnly(List<Evaluator.HeldOut> heldOut) {
    for (Evaluator.HeldOut set : heldOut) {
      String role = set.name() == null ? "the evaluation data" : "set " + set.name();
      if (set.batches().stream().anyMatch(b -> !(b instanceof TensorBatch))) {
        throw new SparsifyException(
            role
                + ": task tensor compares the raw outputs of tensor inputs (an .npz file of"
                + " arrays named after the model's inputs); a text model's task is embedding,"
                + " classification or ranking");
      }
    }
  }

  /** The sets to evaluate: the named ones, or the one of --data. */
  private List<EvaluateArgs.HeldOutSet> requestedSets() {
    if (sets.isEmpty()) {
      if (data == null) {
        throw new SparsifyException("give the held-out data: --data, or named sets with --set");
      }
      return List.of(new EvaluateArgs.HeldOutSet(null, data, labels, offset));
    }
    if (data != null || labels != null || offset != 0) {
      throw new SparsifyException(
          "--data, --labels and --offset describe a single set; with --set, give each set's"
              + " labels and offset as --set-labels name=file and --set-offset name=n");
    }
    for (String name : concat(setLabels.keySet(), setOffsets.keySet())) {
      if (!sets.containsKey(name)) {
        throw new SparsifyException("no --set named " + name + " (sets: " + sets.keySet() + ")");
      }
    }
    List<EvaluateArgs.HeldOutSet> requested = new ArrayList<>();
    sets.forEach(
        (name, location) ->
            requested.add(
                new EvaluateArgs.HeldOutSet(
                    name, location, setLabels.get(name), setOffsets.getOrDefault(name, 0))));
    return requested;
  }

  private static List<String> concat(java.util.Set<String> a, java.util.Set<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private Evaluator.HeldOut read(String name, String location, String labelsFile, int skip) {
    String role = name == null ? "evaluation data" : "evaluation set " + name;
    TextOptions.Samples read =
        text.samples(
            tokenizer == null ? null : run.input(tokenizer),
            run.input(location),
            role,
            skip,
            samples,
            false);
    if (read.count() < 2) {
      throw new SparsifyException(role + ": evaluation needs at least 2 samples");
    }
    if (read.captured() != null && labelsFile != null) {
      throw new SparsifyException(
          role + ": captured samples have no labels: evaluate them without labels (fidelity only)");
    }
    List<String> labelLines =
        labelsFile == null
            ? null
            : Sentences.first(
                Sentences.skip(Sentences.read(run.input(labelsFile), "labels"), skip), samples);
    List<List<Integer>> groups = null;
    if (text.task().pairs()) {
      if (read.captured() != null) {
        throw new SparsifyException(
            role
                + ": captured samples do not say which query each pair belongs to; evaluate a"
                + " ranker on a file of query<TAB>document pairs");
      }
      groups =
          Pairs.members(
              Pairs.groups(
                  Sentences.first(
                      Sentences.skip(Sentences.read(run.input(location), role), skip), samples)));
    }
    return new Evaluator.HeldOut(name, read.batches(), labelLines, read.captured(), groups);
  }

  private static void summarize(java.io.PrintWriter out, EvaluationResult result) {
    var f = result.fidelity();
    out.printf(result.sets() == null ? "" : "first set (" + result.sets().get(0).name() + "): ");
    if (f.outputs() != null) {
      rawOutputs(out, result.samples(), f);
    } else {
      fidelityAndTask(out, result);
    }
    out.printf(
        "dense %.1f samples/s, candidate %.1f samples/s (batch %d, %d threads)%n",
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
    if (result.sets() != null) {
      for (var set : result.sets()) {
        var own = set.fidelity();
        out.printf(
            "set %-12s %4d samples: cosine mean %.4f (min %.4f, p5 %.4f), top-5 overlap %.3f%n",
            set.name(),
            set.samples(),
            own.cosineMean(),
            own.cosineMin(),
            own.cosineP5(),
            own.top5Overlap());
      }
    }
  }

  /** Each output of a model of raw outputs, after the worst one's cosines. */
  private static void rawOutputs(
      java.io.PrintWriter out, int samples, EvaluationResult.Fidelity f) {
    out.printf(
        "%d samples: worst output's cosine mean %.4f (min %.4f, p5 %.4f)%n",
        samples, f.cosineMean(), f.cosineMin(), f.cosineP5());
    for (var output : f.outputs()) {
      out.printf(
          "  output %s: cosine mean %.4f (min %.4f, p5 %.4f), max abs error %.4g%n",
          output.name(),
          output.cosineMean(),
          output.cosineMin(),
          output.cosineP5(),
          output.maxAbsError());
    }
  }

  private static void fidelityAndTask(java.io.PrintWriter out, EvaluationResult result) {
    var f = result.fidelity();
    out.printf(
        "%d samples: cosine mean %.4f (min %.4f, p5 %.4f), top-1 agreement %.3f, top-5"
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
      if (d.ndcg() == null) {
        out.printf("accuracy %.3f -> %.3f (dense -> candidate)%n", d.accuracy(), c.accuracy());
      } else {
        out.printf(
            "accuracy %.3f -> %.3f, NDCG@%d %.3f -> %.3f, PNR %.2f -> %.2f (dense -> candidate)%n",
            d.accuracy(), c.accuracy(), result.task().k(), d.ndcg(), c.ndcg(), d.pnr(), c.pnr());
      }
    }
  }
}
