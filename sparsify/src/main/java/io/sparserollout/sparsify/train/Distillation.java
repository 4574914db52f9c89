package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.onnx.PrunableLayer;
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
 * embeddings and the teacher's (a classifier's logits, as they are), the same per token of the last
 * hidden state, the relative error of every activation a pruned layer reads (found from the graph,
 * no model-specific names).
 */
final class Distillation {
  private Distillation() {}

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
   * 1 - cosine between the student's sentence embeddings and the teacher's, plus (weighted) the
   * same for every real token's last hidden state, plus (weighted) the relative squared error of
   * every activation a pruned layer reads ({@code actual} holds the student's).
   */
  static List<Term> loss(
      FineTuner.Options options,
      Map<String, Tensor> actual,
      Map<String, OrtModel.FloatTensor> expected,
      String output,
      TokenBatch batch) {
    Tensor teacherTokens = torchOf(expected.get(output));
    Tensor studentTokens = actual.get(output);
    Tensor mask = mask(batch);
    Scalar one = new Scalar(1f);
    List<Term> terms = new ArrayList<>();
    boolean logits = studentTokens.dim() == 2; // a classifier: one row per sentence already
    terms.add(
        new Term(
            torch
                .cosine_similarity(
                    logits ? centred(studentTokens) : pool(studentTokens, mask),
                    logits ? centred(teacherTokens) : pool(teacherTokens, mask),
                    1,
                    1e-8)
                .neg()
                .add(one)
                .sum(),
            batch.size(),
            1));
    Tensor tokenMask = mask.squeeze(-1);
    double tokens = tokenMask.sum().item_double();
    if (options.tokenLossWeight() > 0 && !logits) {
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
   * Logits less each row's mean: softmax ignores a constant added to a row, so the loss must too
   * (plain cosine would call [5, 5.2] and [5.2, 5] alike, their classes swapped).
   */
  private static Tensor centred(Tensor logits) {
    return logits.sub(logits.mean(new long[] {-1}, true, new ScalarTypeOptional()));
  }

  /** The token mask for a [batch, sequence] error, none (per row) for [batch]; else refused. */
  private static Tensor weights(Tensor error, Tensor tokenMask, String name) {
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
  static double fidelity(TorchGraph graph, List<TokenBatch> batches, List<float[][]> targets) {
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
  static Tensor pooled(TorchGraph graph, TokenBatch batch) {
    Tensor hidden = graph.forward(graph.feeds(batch), List.of()).values().iterator().next();
    return hidden.dim() == 2 ? hidden : pool(hidden, mask(batch));
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
