package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.stage.ModelTask;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What the student is trained and measured on: the cosine between its mean-pooled sentence
 * embeddings and the teacher's (a classifier: the divergence of its class distribution from the
 * teacher's), the same per token of the last hidden state, the relative error of every activation a
 * pruned layer reads (found from the graph, no model-specific names).
 */
final class Distillation {
  /**
   * Softens both class distributions (Hinton et al., 2015): the teacher's ranking of the wrong
   * classes carries what a near one-hot distribution hides.
   */
  static final float TEMPERATURE = 2f;

  private Distillation() {}

  /**
   * What a classifier's output term distils: the first output, or when a Softmax makes it, that
   * Softmax's input (logits: probabilities near 0 and 1 have almost no gradient left). The loss
   * checks that they are [batch, classes], so the Softmax's axis was the last.
   */
  static String logits(OnnxModel model) {
    String first = model.proto().getGraph().getOutput(0).getName();
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      if (node.getOutputCount() > 0
          && node.getOutput(0).equals(first)
          && node.getOpType().equals("Softmax")
          && node.getDomain().isEmpty()
          && lastAxis(node)) {
        return node.getInput(0);
      }
    }
    return first;
  }

  /** Axis -1, or 1 (its default before opset 13) for the [batch, classes] a classifier answers. */
  private static boolean lastAxis(NodeProto softmax) {
    for (AttributeProto a : softmax.getAttributeList()) {
      if (a.getName().equals("axis")) {
        return a.getI() == -1 || a.getI() == 1;
      }
    }
    return true;
  }

  /**
   * The activations every pruned linear layer reads: what layer-wise distillation matches, token by
   * token. A convolution's input is channel-first, not one row per token; convolutions learn from
   * the output losses.
   */
  static List<String> distilled(
      FineTuner.Options options, List<PrunableLayer> layers, TorchGraph graph) {
    if (!options.distillation() || options.layerLossWeight() <= 0) {
      return List.of();
    }
    return layers.stream()
        .filter(layer -> !layer.opType().equals("Conv"))
        .map(PrunableLayer::input)
        .filter(a -> !graph.isInput(a))
        .distinct()
        .toList();
  }

  /**
   * A loss term as a sum over this worker's share of the batch and what the sum is divided by (a
   * count of sentences or tokens, or the teacher's magnitude): data-parallel workers add up their
   * divisors before dividing, so the terms add up to the whole batch's loss.
   */
  record Term(Tensor sum, double divisor, double weight) {}

  /** Combines terms, their divisors summed over the workers first. */
  static Tensor combine(List<Term> terms, DataParallel parallel) {
    double[] divisors = parallel.sum(terms.stream().mapToDouble(Term::divisor).toArray());
    Tensor loss = null;
    for (int i = 0; i < terms.size(); i++) {
      Term term = terms.get(i);
      Tensor part = term.sum().mul(new Scalar((float) (term.weight() / divisors[i])));
      loss = loss == null ? part : loss.add(part);
    }
    return loss;
  }

  /**
   * The output term of {@code task} on {@code output}: an encoder's 1 - cosine of sentence
   * embeddings (and per token), a classifier's {@link #divergence} of its logits, a ranker's {@link
   * #scoreTerm}; plus (weighted) the relative squared error of every other activation in {@code
   * expected}, those a pruned layer reads ({@code actual} holds the student's). {@code
   * scoreVariance} scales a ranker's term and is unused otherwise.
   */
  static List<Term> loss(
      FineTuner.Options options,
      Map<String, Tensor> actual,
      Map<String, OrtModel.FloatTensor> expected,
      String output,
      Batch batch,
      ModelTask task,
      double scoreVariance) {
    Tensor teacherOut = torchOf(expected.get(output));
    Tensor studentOut = actual.get(output);
    List<Term> terms = new ArrayList<>();
    switch (task) {
      case RANKING -> {
        if (!oneScorePerSample(studentOut, batch)) {
          throw refused("a ranker's output must be one score per pair", output, studentOut);
        }
        terms.add(scoreTerm(studentOut, teacherOut, batch.size(), scoreVariance));
      }
      case CLASSIFICATION -> {
        if (studentOut.dim() != 2 || studentOut.size(1) < 2) {
          throw refused("a classifier's logits must be [batch, classes]", output, studentOut);
        }
        terms.add(new Term(divergence(studentOut, teacherOut), batch.size(), 1));
      }
      default -> terms.addAll(embeddingTerms(options, studentOut, teacherOut, output, batch));
    }
    terms.addAll(layerTerms(options, actual, expected, output, batch));
    return terms;
  }

  /**
   * 1 - cosine of the mean-pooled sentence embeddings (of the rows, where the model answers pooled
   * embeddings [batch, hidden] itself), plus (weighted) the same per real token.
   */
  private static List<Term> embeddingTerms(
      FineTuner.Options options, Tensor student, Tensor teacher, String output, Batch batch) {
    Scalar one = new Scalar(1f);
    if (student.dim() == 2) {
      return List.of(
          new Term(
              torch.cosine_similarity(student, teacher, 1, 1e-8).neg().add(one).sum(),
              batch.size(),
              1));
    }
    if (!(batch instanceof TokenBatch sentences)) {
      throw refused(
          "a model of tensors is fine-tuned as a classifier, its output [batch, classes]",
          output,
          student);
    }
    Tensor mask = mask(sentences);
    List<Term> terms = new ArrayList<>();
    terms.add(
        new Term(
            torch
                .cosine_similarity(pool(student, mask), pool(teacher, mask), 1, 1e-8)
                .neg()
                .add(one)
                .sum(),
            batch.size(),
            1));
    if (options.tokenLossWeight() > 0) {
      Tensor tokenMask = mask.squeeze(-1);
      Tensor perToken = torch.cosine_similarity(student, teacher, 2, 1e-8).neg().add(one);
      terms.add(
          new Term(
              perToken.mul(tokenMask).sum(),
              tokenMask.sum().item_double(),
              options.tokenLossWeight()));
    }
    return terms;
  }

  private static io.sparserollout.sparsify.SparsifyException refused(
      String rule, String output, Tensor value) {
    return new io.sparserollout.sparsify.SparsifyException(
        rule + "; " + output + " is " + java.util.Arrays.toString(TorchTensors.shape(value)));
  }

  /** A ranker's answer: one score per sample, [batch] or [batch, 1]. */
  static boolean oneScorePerSample(Tensor output, Batch batch) {
    return output.size(0) == batch.size()
        && (output.dim() == 1 || (output.dim() == 2 && output.size(1) == 1));
  }

  /**
   * The squared error of the student's scores against the teacher's, relative to the teacher's
   * score variance: pointwise, so the served scores keep the dense model's scale and offset (a
   * client may threshold them), which also keeps every query's order.
   */
  static Term scoreTerm(Tensor student, Tensor teacher, int samples, double scoreVariance) {
    Tensor error = student.reshape(-1).sub(teacher.reshape(-1)).square().sum();
    return new Term(error, samples * Math.max(scoreVariance, 1e-12), 1);
  }

  /** The relative squared error of every activation a pruned layer reads, in {@code expected}. */
  private static List<Term> layerTerms(
      FineTuner.Options options,
      Map<String, Tensor> actual,
      Map<String, OrtModel.FloatTensor> expected,
      String output,
      Batch batch) {
    Tensor tokenMask = batch instanceof TokenBatch sentences ? mask(sentences).squeeze(-1) : null;
    List<Term> terms = new ArrayList<>();
    List<String> distilled = expected.keySet().stream().filter(k -> !k.equals(output)).toList();
    ScalarTypeOptional none = new ScalarTypeOptional();
    for (String name : distilled) {
      Tensor t = torchOf(expected.get(name));
      Tensor error = actual.get(name).sub(t).square().mean(new long[] {-1}, false, none);
      Tensor scale = t.square().mean(new long[] {-1}, false, none);
      // Per token, padding left out; a [batch, k] activation (a head's pooled input) per row.
      Tensor weights = weights(error, tokenMask, name);
      terms.add(
          new Term(
              weights == null ? error.sum() : error.mul(weights).sum(),
              (weights == null ? scale : scale.mul(weights)).sum().item_double(),
              options.layerLossWeight() / distilled.size()));
    }
    return terms;
  }

  /**
   * The summed KL divergence of the student's softened class distributions from the teacher's,
   * times T² so its gradients keep their scale whatever the temperature. It sees what softmax sees:
   * a constant added to a row changes nothing, and with two classes (where any centred rows are
   * parallel or opposite, so a cosine is only ever 1 or -1) it still has a gradient.
   */
  static Tensor divergence(Tensor student, Tensor teacher) {
    Scalar t = new Scalar(TEMPERATURE);
    // A -inf logit (a masked class) would make 0 * inf; a class that far below counts as 0.
    Scalar floor = new Scalar(-1e4f);
    Tensor target = teacher.div(t).log_softmax(1).clamp_min(floor);
    Tensor guess = student.div(t).log_softmax(1).clamp_min(floor);
    return target.exp().mul(target.sub(guess)).sum().mul(new Scalar(TEMPERATURE * TEMPERATURE));
  }

  /**
   * The token mask for a [batch, sequence] error, none (per row) for [batch]; else refused. Tensor
   * inputs have no tokens: every position of the error counts.
   */
  private static Tensor weights(Tensor error, Tensor tokenMask, String name) {
    if (tokenMask == null) {
      return null;
    }
    long[] shape = TorchTensors.shape(error);
    if (java.util.Arrays.equals(shape, TorchTensors.shape(tokenMask))) {
      return tokenMask;
    }
    if (shape.length == 1 && shape[0] == tokenMask.size(0)) {
      return null;
    }
    throw new IllegalStateException(
        "the activation "
            + name
            + " is neither one row per token nor one per sentence: "
            + java.util.Arrays.toString(shape));
  }

  private static Tensor torchOf(OrtModel.FloatTensor value) {
    return Tensor.create(value.data(), value.shape());
  }

  /**
   * Mean over the held-out samples of the cosine between student and teacher embeddings (or
   * logits). A ranker's one score per sample has no direction: its fidelity is the correlation of
   * the student's scores with the teacher's over each held-out batch, weighted by the batch's size
   * (batches of one, or of scores all alike, say nothing and are left out).
   */
  static double fidelity(TorchGraph graph, List<? extends Batch> batches, List<float[][]> targets) {
    double sum = 0;
    int count = 0;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < batches.size(); i++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor student = pooled(graph, batches.get(i));
          float[][] teacher = targets.get(i);
          if (teacher[0].length == 1) {
            double r = correlation(TorchTensors.toFloats(student), teacher);
            if (!Double.isNaN(r)) {
              sum += r * teacher.length;
              count += teacher.length;
            }
            continue;
          }
          Tensor cos = torch.cosine_similarity(student, pooledTarget(teacher), 1, 1e-8);
          for (float c : TorchTensors.toFloats(cos)) {
            sum += c;
            count++;
          }
        }
      }
    }
    return sum / Math.max(count, 1);
  }

  /**
   * Pearson's correlation of two columns of scores; NaN when the teacher's have no spread (nothing
   * to agree with), 0 when only the student's have none (it tells no pair from another).
   */
  static double correlation(float[] student, float[][] teacher) {
    int n = teacher.length;
    if (n < 2) {
      return Double.NaN;
    }
    double meanS = 0;
    double meanT = 0;
    for (int i = 0; i < n; i++) {
      meanS += student[i];
      meanT += teacher[i][0];
    }
    meanS /= n;
    meanT /= n;
    double st = 0;
    double ss = 0;
    double tt = 0;
    for (int i = 0; i < n; i++) {
      double s = student[i] - meanS;
      double t = teacher[i][0] - meanT;
      st += s * t;
      ss += s * s;
      tt += t * t;
    }
    return tt == 0 ? Double.NaN : ss == 0 ? 0 : st / Math.sqrt(ss * tt);
  }

  /** The variance of the teacher's held-out scores (rows of one), the scale of the score term. */
  static double scoreVariance(List<float[][]> targets) {
    double sum = 0;
    double squares = 0;
    int n = 0;
    for (float[][] rows : targets) {
      for (float[] row : rows) {
        sum += row[0];
        squares += row[0] * (double) row[0];
        n++;
      }
    }
    double mean = sum / Math.max(n, 1);
    return Math.max(squares / Math.max(n, 1) - mean * mean, 0);
  }

  /** Mean of the first output over the real (unmasked) tokens: [batch, hidden]; logits as is. */
  static Tensor pooled(TorchGraph graph, Batch batch) {
    Tensor hidden = graph.forward(graph.feeds(batch), List.of()).values().iterator().next();
    if (hidden.dim() == 1) {
      return hidden.unsqueeze(1); // a ranker's [batch] scores, as rows of one
    }
    if (hidden.dim() == 2) {
      return hidden;
    }
    if (batch instanceof TokenBatch tokens) {
      return pool(hidden, mask(tokens));
    }
    throw new io.sparserollout.sparsify.SparsifyException(
        "a model of tensors is fine-tuned as a classifier, its first output [batch, classes]; it"
            + " answered "
            + java.util.Arrays.toString(TorchTensors.shape(hidden)));
  }

  /** The attention mask as [batch, sequence, 1] floats. */
  static Tensor mask(TokenBatch batch) {
    return Tensor.create(batch.attentionMask(), batch.size(), batch.length())
        .to(torch.ScalarType.Float)
        .unsqueeze(-1);
  }

  static Tensor pool(Tensor hidden, Tensor mask) {
    ScalarTypeOptional none = new ScalarTypeOptional();
    return hidden
        .mul(mask)
        .mean(new long[] {1}, false, none)
        .div(mask.mean(new long[] {1}, false, none));
  }

  private static Tensor pooledTarget(float[][] rows) {
    int dim = rows[0].length;
    float[] flat = new float[rows.length * dim];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * dim, dim);
    }
    return Tensor.create(flat, rows.length, dim);
  }
}
