package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Evaluation numbers and the gate's verdict. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GateStatus(
    @JsonPropertyDescription("Metric compared.") String metric,
    @JsonPropertyDescription("Metric of the dense baseline.") Double dense,
    @JsonPropertyDescription("Metric of the sparse candidate.") Double sparse,
    @JsonPropertyDescription("Drop from dense to sparse, in the unit of spec.gate.dropType.")
        Double drop,
    @JsonPropertyDescription("Largest drop the spec allows.") Double allowedDrop,
    @JsonPropertyDescription("Passed or Failed.") Verdict verdict,
    @JsonPropertyDescription("The verdict in words, with the numbers.") String message,
    @JsonPropertyDescription("URI of the full evaluation report.") String reportUri,
    @JsonPropertyDescription(
            "Each named held-out set's numbers (spec.evaluation.sets); the fields above are the"
                + " set the verdict turned on (perSet all) or the sets' mean (perSet mean).")
        List<SetVerdict> sets) {

  /** The same verdict without per-set numbers: one held-out set. */
  public GateStatus(
      String metric,
      Double dense,
      Double sparse,
      Double drop,
      Double allowedDrop,
      Verdict verdict,
      String message,
      String reportUri) {
    this(metric, dense, sparse, drop, allowedDrop, verdict, message, reportUri, null);
  }

  /** The same, with another verdict and message. */
  public GateStatus withVerdict(Verdict newVerdict, String newMessage) {
    return new GateStatus(
        metric, dense, sparse, drop, allowedDrop, newVerdict, newMessage, reportUri, sets);
  }

  /** One named held-out set's metric and drop. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record SetVerdict(
      @JsonPropertyDescription("spec.evaluation.sets[].name.") String name,
      @JsonPropertyDescription("Samples evaluated.") Integer samples,
      @JsonPropertyDescription("Metric of the dense baseline.") Double dense,
      @JsonPropertyDescription("Metric of the sparse candidate.") Double sparse,
      @JsonPropertyDescription("Drop from dense to sparse, in the unit of spec.gate.dropType.")
          Double drop,
      @JsonPropertyDescription("Passed or Failed on this set alone; absent with perSet mean.")
          Verdict verdict) {}

  public enum Verdict {
    @JsonProperty("Passed")
    PASSED,
    @JsonProperty("Failed")
    FAILED
  }
}
