package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
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
   * What the output term distils: the first output, or when a Softmax over the last axis makes it,
   * that Softmax's input (logits: probabilities near 0 and 1 have almost no gradient left).
   */
  static String target(OnnxModel model) {
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
   * 1 - cosine between the student's sentence embeddings and the teacher's (a classifier: the
   * {@link #divergence} of its logits), plus (weighted) the same for every real token's last hidden
   * state, plus (weighted) the relative squared error of every activation a pruned layer reads
   * ({@code actual} holds the student's).
   */
  static List<Term> loss(
      FineTuner.Options options,
      Map<String, Tensor> actual,
      Map<String, OrtModel.FloatTensor> expected,
      String output,
      Batch batch) {
    Tensor teacherTokens = torchOf(expected.get(output));
    Tensor studentTokens = actual.get(output);
    boolean logits = studentTokens.dim() == 2; // a classifier: one row per sample already
    if (!logits && !(batch instanceof TokenBatch)) {
      throw new io.sparserollout.sparsify.SparsifyException(
          "a model of tensors is fine-tuned as a classifier, its output [batch, classes]; "
              + output
              + " is "
              + java.util.Arrays.toString(TorchTensors.shape(studentTokens)));
    }
    Tensor mask = batch instanceof TokenBatch sentences ? mask(sentences) : null;
    Scalar one = new Scalar(1f);
    List<Term> terms = new ArrayList<>();
    terms.add(
        new Term(
            logits
                ? divergence(studentTokens, teacherTokens)
                : torch
                    .cosine_similarity(
                        pool(studentTokens, mask), pool(teacherTokens, mask), 1, 1e-8)
                    .neg()
                    .add(one)
                    .sum(),
            batch.size(),
            1));
    Tensor tokenMask = mask == null ? null : mask.squeeze(-1);
    if (options.tokenLossWeight() > 0 && !logits) {
      double tokens = tokenMask.sum().item_double();
      Tensor perToken =
          torch.cosine_similarity(studentTokens, teacherTokens, 2, 1e-8).neg().add(one);
      terms.add(new Term(perToken.mul(tokenMask).sum(), tokens, options.tokenLossWeight()));
    }
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
    Tensor target = teacher.div(t).log_softmax(1);
    Tensor guess = student.div(t).log_softmax(1);
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

  /** Mean over the held-out sentences of the cosine between student and teacher embeddings. */
  static double fidelity(TorchGraph graph, List<? extends Batch> batches, List<float[][]> targets) {
    double sum = 0;
    int count = 0;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < batches.size(); i++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor cos =
              torch.cosine_similarity(
                  pooled(graph, batches.get(i)), pooledTarget(targets.get(i)), 1, 1e-8);
          for (float c : TorchTensors.toFloats(cos)) {
            sum += c;
            count++;
          }
        }
      }
    }
    return sum / Math.max(count, 1);
  }

  /** Mean of the first output over the real (unmasked) tokens: [batch, hidden]; logits as is. */
  static Tensor pooled(TorchGraph graph, Batch batch) {
    Tensor hidden = graph.forward(graph.feeds(batch), List.of()).values().iterator().next();
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
