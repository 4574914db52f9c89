package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.head.ClassChoice;
import io.sparserollout.sparsify.head.HeadGraft;
import io.sparserollout.sparsify.head.SoftmaxRegression;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.Cli;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Makes a real classifier out of a text encoder and labelled sentences: the encoder stays as it is
 * and a linear head, trained on its mean-pooled outputs, becomes part of the model.
 */
@Command(
    name = Cli.HEAD,
    description =
        "Train a classification head on an encoder's mean-pooled outputs and write encoder and"
            + " head as one ONNX classifier (output logits, class names in id2label).")
final class HeadCommand implements Callable<Integer> {
  @Mixin CommandRun run;
  @Mixin TextOptions text;

  @Option(names = Cli.DENSE, required = true, description = "the encoder")
  String encoder;

  @Option(names = Cli.TOKENIZER, required = true)
  String tokenizer;

  @Option(names = Cli.TRAIN, required = true, description = "training sentences, one per line")
  String train;

  @Option(names = Cli.LABELS, required = true, description = "a label per training sentence")
  String labels;

  @Option(
      names = Cli.CLASSES,
      defaultValue = "16",
      description = "the most frequent labels kept as classes; rarer ones become 'other'")
  int classes;

  @Option(names = Cli.SAMPLES, defaultValue = "8000", description = "training sentences used")
  int samples;

  @Option(names = Cli.STEPS, defaultValue = "300", description = "full-batch optimizer steps")
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

  @Override
  public Integer call() {
    if (classes < 1 || steps < 1 || samples < 2 || !(l2 >= 0)) {
      throw new SparsifyException(
          "--classes and --steps must be positive, --samples at least 2, --l2 not negative");
    }
    Path encoderPath = run.input(encoder);
    OnnxModel model = OnnxModel.load(encoderPath);
    HeadGraft.check(model);
    List<String> sentences = Sentences.first(Sentences.read(run.input(train), "training"), samples);
    List<String> labelLines =
        Sentences.first(Sentences.read(run.input(labels), "labels"), sentences.size());
    if (labelLines.size() != sentences.size()) {
      throw new SparsifyException(
          labelLines.size() + " labels for " + sentences.size() + " sentences; give one per line");
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
}
