package io.sparserollout.sparsify.head;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.quantize.OpsetUpgrade;
import java.util.List;

/**
 * Turns a text encoder into a ranker of (query, document) pairs given in the tokenizer's pair
 * encoding: the hidden states are mean-pooled over the query's tokens (token type 0) and over the
 * document's (type 1), each pooled vector is made unit length, and a Gemm weighs their product
 * dimension by dimension into {@code score} [batch, 1], the model's only output. With every weight
 * 1 the score is the cosine of the two; training reweighs the dimensions. Only operators of every
 * opset from 11 are used, so the encoder's opset is kept.
 */
public final class RankerGraft {
  public static final String SCORE = "score";
  public static final String WEIGHT = "ranker.weight";
  public static final String BIAS = "ranker.bias";
  private static final String MASK = "attention_mask";
  private static final String TYPES = "token_type_ids";
  private static final String P = "ranker/";

  private RankerGraft() {}

  public static void attach(OnnxModel model, PairwiseRanker.Weights head) {
    check(model);
    GraphProto.Builder graph = model.proto().getGraphBuilder();
    String hidden = graph.getOutput(0).getName();
    GraphNodes nodes = new GraphNodes(graph, P, OpsetUpgrade.defaultOpset(model.proto()));
    graph.addInitializer(GraphNodes.floats(WEIGHT, head.weight(), 1, head.weight().length));
    graph.addInitializer(GraphNodes.floats(BIAS, new float[] {head.bias()}, 1));
    String tokens = nodes.floatMask(MASK, P + "tokens");
    String types = nodes.floatMask(TYPES, P + "types");
    nodes.add("Mul", List.of(tokens, types), P + "document_tokens");
    nodes.add("Sub", List.of(tokens, P + "document_tokens"), P + "query_tokens");
    String query = nodes.unit(nodes.meanPool(hidden, P + "query_tokens", "query"), "query");
    String document =
        nodes.unit(nodes.meanPool(hidden, P + "document_tokens", "document"), "document");
    nodes.add("Mul", List.of(query, document), P + "agreement");
    nodes.linear(P + "agreement", WEIGHT, BIAS, SCORE);
    nodes.onlyOutput(SCORE, 1);
  }

  /**
   * Refuses, before any work, an encoder the head cannot be put on: no attention mask or token
   * types, no float first output, an opset before 11, or the head's names taken (a ranker already).
   */
  public static void check(OnnxModel model) {
    HeadGraft.checkEncoder(model, List.of(MASK, TYPES), List.of(SCORE), "ranker.", P, "a ranker");
  }

  /**
   * What the graft feeds its Gemm, computed here from the encoder's hidden states [batch, sequence,
   * hidden]: per pair, the product of the unit query and document means.
   */
  public static float[][] features(
      float[] hidden, int sequence, int width, long[] attentionMask, long[] typeIds) {
    int batch = hidden.length / (sequence * width);
    float[][] features = new float[batch][width];
    for (int b = 0; b < batch; b++) {
      double[] query = new double[width];
      double[] document = new double[width];
      int queryCount = 0;
      int documentCount = 0;
      for (int t = 0; t < sequence; t++) {
        int at = b * sequence + t;
        if (attentionMask[at] == 0) {
          continue;
        }
        boolean isDocument = typeIds[at] != 0;
        double[] sum = isDocument ? document : query;
        for (int d = 0; d < width; d++) {
          sum[d] += hidden[at * width + d];
        }
        if (isDocument) {
          documentCount++;
        } else {
          queryCount++;
        }
      }
      unit(query, queryCount);
      unit(document, documentCount);
      for (int d = 0; d < width; d++) {
        features[b][d] = (float) (query[d] * document[d]);
      }
    }
    return features;
  }

  private static void unit(double[] sum, int count) {
    double length = 0;
    for (int d = 0; d < sum.length; d++) {
      sum[d] /= Math.max(count, 1);
      length += sum[d] * sum[d];
    }
    length = Math.max(Math.sqrt(length), 1e-12);
    for (int d = 0; d < sum.length; d++) {
      sum[d] /= length;
    }
  }
}
