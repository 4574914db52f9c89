package io.sparserollout.serving;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Half;
import io.sparserollout.serving.protocol.Tensor;
import java.lang.reflect.Array;
import java.util.List;

/**
 * How a canary's answer to a mirrored request agrees with the dense baseline's, by the model's
 * task: {@code cosine} (embeddings: the cosine of each row), {@code top1} (classifiers: each row's
 * largest logit is the same class) or {@code top1-document} (rankers: a request's rows are one
 * query's documents, and both put the same one first).
 */
public final class ShadowAgreement {
  private final boolean top1;
  private final boolean top1Document;

  private ShadowAgreement(boolean top1, boolean top1Document) {
    this.top1 = top1;
    this.top1Document = top1Document;
  }

  /** The metric of SHADOW_METRIC; anything else is the cosine. */
  public static ShadowAgreement of(String metric) {
    return new ShadowAgreement("top1".equals(metric), "top1-document".equals(metric));
  }

  /** Whether an answer has anything to agree on: a ranker's needs two documents or more. */
  public boolean comparable(List<Tensor> ours) {
    return !top1Document || ours.stream().anyMatch(t -> t.shape().length > 0 && t.shape()[0] >= 2);
  }

  static double number(Tensor t, int index) {
    Object value = Array.get(t.data(), index);
    return t.datatype() == Datatype.FP16
        ? Half.toFloat((Short) value)
        : t.datatype() == Datatype.UINT8 ? ((Byte) value) & 0xFF : ((Number) value).doubleValue();
  }

  /**
   * Two all-zero rows are the same answer (a raw output such as a detector's map is often all
   * zero); one all-zero row shares no direction with the other. As the gate's evaluation counts
   * them.
   */
  static double cosine(double dot, double a2, double b2) {
    return a2 == 0 && b2 == 0 ? 1 : a2 == 0 || b2 == 0 ? 0 : dot / Math.sqrt(a2 * b2);
  }

  /**
   * Mean over rows (first axis) of the cosine, or of top-1 equality, of the matching outputs; of a
   * ranker, whether both put the same row (document) first, by its first column (score). NaN when
   * nothing matched (no output of the name, another size): the caller counts it failed, not as a
   * disagreement.
   */
  public double compare(List<Tensor> ours, JsonNode theirs) {
    double sum = 0;
    int rows = 0;
    for (Tensor t : ours) {
      JsonNode other = null;
      for (JsonNode candidate : theirs) {
        if (candidate.path("name").asText().equals(t.name())) {
          other = candidate.path("data");
        }
      }
      if (other == null
          || !other.isArray()
          || t.datatype() == Datatype.BYTES
          || t.datatype() == Datatype.BOOL) {
        continue; // only numbers are compared
      }
      int n = Array.getLength(t.data());
      long batch = t.shape().length == 0 ? 1 : t.shape()[0];
      int width = (int) (n / Math.max(batch, 1));
      if (top1Document) {
        if (batch >= 2 && other.size() == n) {
          int firstOurs = 0;
          int firstTheirs = 0;
          for (int r = 1; r < batch; r++) {
            firstOurs = number(t, r * width) > number(t, firstOurs * width) ? r : firstOurs;
            firstTheirs =
                other.path(r * width).asDouble() > other.path(firstTheirs * width).asDouble()
                    ? r
                    : firstTheirs;
          }
          sum += firstOurs == firstTheirs ? 1 : 0;
          rows++;
        }
        continue;
      }
      for (int r = 0; r < batch; r++) {
        double dot = 0;
        double a2 = 0;
        double b2 = 0;
        int argA = 0;
        int argB = 0;
        for (int j = 0; j < width; j++) {
          double a = number(t, r * width + j);
          double b = other.path(r * width + j).asDouble();
          dot += a * b;
          a2 += a * a;
          b2 += b * b;
          if (a > number(t, r * width + argA)) {
            argA = j;
          }
          if (b > other.path(r * width + argB).asDouble()) {
            argB = j;
          }
        }
        sum += top1 ? (argA == argB ? 1 : 0) : cosine(dot, a2, b2);
        rows++;
      }
    }
    return rows == 0 ? Double.NaN : sum / rows; // nothing comparable: no evidence either way
  }
}
