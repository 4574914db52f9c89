package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Which of the measured variants (dense or 2:4 sparse, at each allowed precision) is served. */
public record SelectionSpec(
    @Default("fastest-passing")
        @JsonPropertyDescription(
            "fastest-passing: build and time every variant on the serving hardware (dense and"
                + " sparse, float and int8 when quantization allows it), and serve the fastest"
                + " that passes the gate: of the variants that pass and that no other passing"
                + " one beats (a lead shown with 95% confidence and estimated above tolerance),"
                + " the best on the gate metric. pinned: serve only the named variant.")
        Policy policy,
    @Pattern("^(dense|sparse)-(fp32|fp16|int8)$")
        @JsonPropertyDescription(
            "The variant served with policy pinned: dense-fp32, dense-int8, sparse-fp32,"
                + " sparse-int8 (onnxruntime); fp16 in place of fp32 for tensorrt.")
        String variant,
    @Default("false")
        @JsonPropertyDescription(
            "Only 2:4 sparse variants are candidates; dense ones are still timed as the"
                + " reference.")
        Boolean requireSparse,
    @Default("0.05")
        @Min(0)
        @Max(0.5)
        @JsonPropertyDescription(
            "Relative throughput lead, as estimated from repetitions timed in turns, that a"
                + " variant shown faster (95% confidence) must exceed over another for that other"
                + " to count as slower.")
        Double tolerance) {

  public enum Policy {
    @JsonProperty("fastest-passing")
    FASTEST_PASSING,
    @JsonProperty("pinned")
    PINNED
  }
}
