package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One measured variant: its quality against dense, its speed, and whether it was chosen. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VariantStatus(
    @JsonPropertyDescription("dense or sparse, then the precision: sparse-int8, say.") String name,
    @JsonPropertyDescription("URI of the variant's engine folder.") String artifactUri,
    @JsonPropertyDescription("SHA-256 of the variant's engine file.") String sha256,
    @JsonPropertyDescription("Layers with the 2:4 pattern (tensorrt: that run sparse tactics).")
        Integer sparseLayers,
    @JsonPropertyDescription("Batch size the speed below was measured at (spec's optBatch).")
        Integer batch,
    @JsonPropertyDescription("Sequence length of that measurement (spec's optSequence).")
        Integer sequence,
    @JsonPropertyDescription(
            "Sequences per second at that shape: batch / median latency of every timed run.")
        Double throughput,
    @JsonPropertyDescription("Median batch latency, ms.") Double latencyMsP50,
    @JsonPropertyDescription("99th percentile batch latency, ms.") Double latencyMsP99,
    @JsonPropertyDescription("Dispersion: (max - min) / median of the repetitions' throughputs.")
        Double spread,
    @JsonPropertyDescription(
            "Throughput at that shape in each timed repetition, in the order they ran: the"
                + " variants took turns, so repetition k of every variant ran at the same moment.")
        java.util.List<Double> throughputByRepetition,
    @JsonPropertyDescription(
            "Throughput over the dense float variant's at the same shape: the geometric mean of"
                + " the repetitions' ratios, each taken at the same moment.")
        Double speedup,
    @JsonPropertyDescription(
            "Lower end of the 95% confidence interval of speedup, from the repetitions compared"
                + " pairwise (Student's t on the logarithms of their ratios).")
        Double speedupLow,
    @JsonPropertyDescription("Upper end of that interval.") Double speedupHigh,
    @JsonPropertyDescription(
            "The gate metric of this variant on the held-out data (with named held-out sets, their mean).")
        Double metric,
    @JsonPropertyDescription("Drop from dense, in the unit of spec.gate.dropType.") Double drop,
    @JsonPropertyDescription("Whether the variant passes the gate.") Boolean passed,
    @JsonPropertyDescription("Whether the variant is the one served.") Boolean chosen,
    @JsonPropertyDescription("Why it was or was not chosen, with the numbers.") String reason) {

  public VariantStatus withQuality(Double metric, Double drop, Boolean passed) {
    return new VariantStatus(
        name,
        artifactUri,
        sha256,
        sparseLayers,
        batch,
        sequence,
        throughput,
        latencyMsP50,
        latencyMsP99,
        spread,
        throughputByRepetition,
        speedup,
        speedupLow,
        speedupHigh,
        metric,
        drop,
        passed,
        chosen,
        reason);
  }

  public VariantStatus withChoice(boolean chosen, String reason) {
    return new VariantStatus(
        name,
        artifactUri,
        sha256,
        sparseLayers,
        batch,
        sequence,
        throughput,
        latencyMsP50,
        latencyMsP99,
        spread,
        throughputByRepetition,
        speedup,
        speedupLow,
        speedupHigh,
        metric,
        drop,
        passed,
        chosen,
        reason);
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean sparse() {
    return name.startsWith("sparse-");
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  public String precision() {
    return name.substring(name.indexOf('-') + 1);
  }
}
