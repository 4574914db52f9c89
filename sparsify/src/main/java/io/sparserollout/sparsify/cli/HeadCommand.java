package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.eval.RankingMetrics;
import io.sparserollout.sparsify.head.ClassChoice;
import io.sparserollout.sparsify.head.HeadGraft;
import io.sparserollout.sparsify.head.PairwiseRanker;
import io.sparserollout.sparsify.head.RankerGraft;
import io.sparserollout.sparsify.head.SoftmaxRegression;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.Pairs;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.ModelTask;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Makes a real classifier or ranker out of a text encoder and labelled data: the encoder stays as
 * it is and a linear head, trained on its pooled outputs, becomes part of the model.
 */
@Command(
    name = Cli.HEAD,
    description =
        "Train a classification head on an encoder's mean-pooled outputs and write encoder and"
            + " head as one ONNX classifier (output logits, class names in id2label); with --task"
            + " ranking, a ranking head on query<TAB>document pairs and graded labels (output"
            + " score).")
final class HeadCommand implements Callable<Integer> {
  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.DENSE, required = true, description = "the encoder")
  String encoder;

  @Option(names = Cli.TOKENIZER, required = true)
  String tokenizer;

  @Option(
      names = Cli.TRAIN,
      required = true,
      description = "training sentences, one per line (of a ranker: query<TAB>document pairs)")
  String train;

  @Option(
      names = Cli.LABELS,
      required = true,
      description = "a label per training sentence (of a ranker: a relevance grade, 0 or more)")
  String labels;

  @Option(
      names = Cli.CLASSES,
      defaultValue = "16",
      description = "the most frequent labels kept as classes; rarer ones become 'other'")
  int classes;

  @Option(names = Cli.SAMPLES, defaultValue = "8000", description = "training sentences used")
  int samples;

  @Option(
      names = Cli.STEPS,
      defaultValue = "300",
      description = "full-batch optimizer steps (a ranker of 0: the plain cosine, untrained)")
  int steps;

  @Option(
      names = "--l2",
      defaultValue = "1e-2",
      description = "weight decay: small weights keep the logits steady under pruning and int8")
  double l2;

  @Option(names = Cli.OUT, required = true, description = "the classifier")
  String out;

  /** What the head learned, for the report. */
  record HeadResult(List<String> classes, int trainingSentences, double trainingAccuracy) {}

  /**
   * What a ranking head learned: the share of the training pairs of different grades it orders
   * right, before (the plain cosine) and after training.
   */
  record RankerResult(
      int trainingPairs, int queries, int orderedPairs, double cosineOrder, double trainedOrder) {}

  @Override
  public Integer call() {
    ModelTask task = text.task();
    if (task == ModelTask.EMBEDDING) {
      task = ModelTask.CLASSIFICATION; // the default task names the encoder; the head classifies
    }
    if (task == ModelTask.TENSOR) {
      throw new SparsifyException(
          Cli.TASK + " tensor: a head classifies (classification) or ranks (ranking) an encoder");
    }
    int leastSteps = task == ModelTask.RANKING ? 0 : 1; // a ranker of 0 steps: the plain cosine
    if (classes < 1 || steps < leastSteps || samples < 2 || !(l2 >= 0)) {
      throw new SparsifyException(
          "--classes must be positive, --steps at least "
              + leastSteps
              + ", --samples at least 2, --l2 not negative");
    }
    Path encoderPath = run.input(encoder);
    OnnxModel model = OnnxModel.load(encoderPath);
    if (task == ModelTask.RANKING) {
      RankerGraft.check(model);
    } else {
      HeadGraft.check(model);
    }
    List<String> sentences = Sentences.first(Sentences.read(run.input(train), "training"), samples);
    text.checkPairs(sentences, "training");
    List<String> labelLines =
        Sentences.first(Sentences.read(run.input(labels), "labels"), sentences.size());
    if (labelLines.size() != sentences.size()) {
      throw new SparsifyException(
          labelLines.size() + " labels for " + sentences.size() + " sentences; give one per line");
    }
    if (task == ModelTask.RANKING) {
      return ranker(encoderPath, model, sentences, labelLines);
    }
    ClassChoice choice = ClassChoice.of(labelLines, classes);
    if (choice.names().size() < 2) {
      throw new SparsifyException("the labels name one class only: nothing to classify");
    }
    float[][] pooled = new float[sentences.size()][];
    try (OrtModel ort = OrtModel.open(encoderPath, text.threads)) {
      int at = 0;
      for (TokenBatch batch : text.batches(run.input(tokenizer), sentences, false)) {
        for (float[] row : ort.embed(batch)) {
          pooled[at++] = row;
        }
        if (at % 2048 < batch.size() || at == sentences.size()) {
          run.progress("pooled " + at + " of " + sentences.size() + " sentences");
        }
      }
    }
    SoftmaxRegression.Weights head =
        SoftmaxRegression.train(pooled, choice.classes(), choice.names().size(), steps, l2);
    HeadGraft.attach(model, head, choice.names());
    model.save(run.output(out));
    int correct = 0;
    for (int i = 0; i < pooled.length; i++) {
      float[] logits = head.logits(pooled[i]);
      int best = 0;
      for (int c = 1; c < logits.length; c++) {
        best = logits[c] > logits[best] ? c : best;
      }
      correct += best == choice.classes()[i] ? 1 : 0;
    }
    HeadResult result =
        new HeadResult(choice.names(), sentences.size(), (double) correct / pooled.length);
    run.finish(
        result,
        result,
        console ->
            console.printf(
                "%d classes %s, trained on %d sentences: training accuracy %.3f%n",
                result.classes().size(),
                result.classes(),
                result.trainingSentences(),
                result.trainingAccuracy()));
    return 0;
  }

  /**
   * Refuses a pair whose encoding gives the document no token of type 1: the head tells the
   * document's tokens from the query's by their type, and would otherwise train on zeros.
   */
  private static void requireDocumentTokens(TokenBatch batch, int first) {
    for (int b = 0; b < batch.size(); b++) {
      boolean document = false;
      for (int t = 0; t < batch.length(); t++) {
        int at = b * batch.length() + t;
        document |= batch.attentionMask()[at] != 0 && batch.typeIds()[at] != 0;
      }
      if (!document) {
        throw new SparsifyException(
            "training pair "
                + (first + b + 1)
                + ": the tokenizer's pair encoding gives the document no token of type 1 (its"
                + " post-processor sets no token_type_ids for the second sequence, as RoBERTa-style"
                + " tokenizers do); a ranking head tells the document's tokens from the query's by"
                + " their type");
      }
    }
  }

  private int ranker(Path encoderPath, OnnxModel model, List<String> pairs, List<String> grades) {
    int[] grade = RankingMetrics.grades(grades, "training");
    List<List<Integer>> groups = Pairs.members(Pairs.groups(pairs));
    List<int[]> ordered = PairwiseRanker.orderedPairs(groups, grade);
    if (ordered.isEmpty()) {
      throw new SparsifyException(
          "no query has two documents of different grades: nothing to learn an order from");
    }
    float[][] features = new float[pairs.size()][];
    try (OrtModel ort = OrtModel.open(encoderPath, text.threads)) {
      int at = 0;
      for (TokenBatch batch : text.batches(run.input(tokenizer), pairs, false)) {
        OrtModel.FloatTensor hidden =
            ort.run(batch, Set.of(ort.firstOutput())).get(ort.firstOutput());
        if (hidden.shape().length != 3) {
          throw new SparsifyException(
              "the encoder's first output is "
                  + java.util.Arrays.toString(hidden.shape())
                  + "; a ranking head pools hidden states [batch, sequence, hidden]");
        }
        requireDocumentTokens(batch, at);
        for (float[] row :
            RankerGraft.features(
                hidden.data(),
                (int) hidden.shape()[1],
                (int) hidden.shape()[2],
                batch.attentionMask(),
                batch.typeIds())) {
          features[at++] = row;
        }
        if (at % 2048 < batch.size() || at == pairs.size()) {
          run.progress("encoded " + at + " of " + pairs.size() + " pairs");
        }
      }
    }
    PairwiseRanker.Weights head = PairwiseRanker.train(features, ordered, steps, l2);
    RankerGraft.attach(model, head);
    model.save(run.output(out));
    RankerResult result =
        new RankerResult(
            pairs.size(),
            groups.size(),
            ordered.size(),
            PairwiseRanker.pairAccuracy(
                PairwiseRanker.cosine(features[0].length), features, ordered),
            PairwiseRanker.pairAccuracy(head, features, ordered));
    run.finish(
        result,
        result,
        console ->
            console.printf(
                "ranker trained on %d pairs of %d queries: of %d pairs of different grades, %.3f"
                    + " ordered right by the plain cosine, %.3f by the trained head%n",
                result.trainingPairs(),
                result.queries(),
                result.orderedPairs(),
                result.cosineOrder(),
                result.trainedOrder()));
    return 0;
  }
}
