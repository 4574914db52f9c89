package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

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
    @JsonPropertyDescription("URI of the full evaluation report.") String reportUri) {

  public enum Verdict {
    @JsonProperty("Passed")
    PASSED,
    @JsonProperty("Failed")
    FAILED
  }
}
