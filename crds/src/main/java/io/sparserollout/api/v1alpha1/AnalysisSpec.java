package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Canary analysis: ML quality (agreement with dense) plus error rate and latency. */
public record AnalysisSpec(
    @Default("30s")
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription("How often the metrics are measured during a step.")
        String interval,
    @Default("1")
        @Min(0)
        @Max(100)
        @JsonPropertyDescription("Failed measurements tolerated before the canary is rolled back.")
        Integer failureLimit,
    @Default("0.95")
        @Min(0)
        @Max(1)
        @JsonPropertyDescription(
            "Lowest shadow agreement with the dense baseline on live traffic (cosine of outputs,"
                + " top-1 equality for classifiers, or for rankers the same first document of a"
                + " request's documents).")
        Double minAgreement,
    @Default("0.01")
        @Min(0)
        @Max(1)
        @JsonPropertyDescription("Highest fraction of failed requests.")
        Double maxErrorRate,
    @Min(0)
        @JsonPropertyDescription("Highest p99 request latency in milliseconds; unset: not checked.")
        Double maxP99LatencyMs,
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        @JsonPropertyDescription(
            "Name of a Prometheus the operator's configuration allows (the ConfigMap"
                + " sparserollout-prometheus-providers in the operator's namespace maps names to"
                + " URLs); unset: the operator scrapes the inference pods.")
        String prometheus,
    @JsonPropertyDescription(
            "No longer accepted (a model refusing it says so): a free URL would let any tenant"
                + " point the operator's HTTP client anywhere. Name an allowed provider in"
                + " prometheus instead.")
        String prometheusUrl,
    @Default("10m")
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription(
            "Longest a canary step may go without a passing analysis (no requests, no shadow"
                + " comparisons, metrics unavailable), counted from the step's start; then"
                + " onInconclusive decides.")
        String inconclusiveLimit,
    @Default("rollback")
        @JsonPropertyDescription(
            "What a step past its inconclusiveLimit does: rollback, or pause (the canary keeps"
                + " its share and waits for the promote or abort annotation, with a Warning).")
        OnInconclusive onInconclusive,
    @Default("0.1")
        @Min(0)
        @Max(1)
        @JsonPropertyDescription(
            "Fraction of the canary's requests mirrored to the dense baseline for the agreement"
                + " metric; the client never waits for the mirror.")
        Double shadowFraction,
    @Default("30")
        @Min(1)
        @Max(1000000)
        @JsonPropertyDescription(
            "Fewest shadow comparisons (and requests) an analysis needs before it judges"
                + " agreement: below it the step waits for more.")
        Integer minSamples,
    @Default("0.95")
        @Min(0.5)
        @Max(0.9999)
        @JsonPropertyDescription(
            "Confidence of the intervals an analysis judges by: a step passes only when the"
                + " agreement interval lies above minAgreement and the error-rate interval (Wilson)"
                + " below maxErrorRate; it fails once either lies wholly on the wrong side; in"
                + " between it waits for more samples.")
        Double confidence,
    @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription(
            "Once a revision is the stable, keep judging its shadow agreement with the dense"
                + " baseline every interval: agreement shown below minAgreement (at the given"
                + " confidence) by a reading, and still by one this long after with none above"
                + " between, sets the QualityDrift condition and a Warning, e.g. 30m. Unset: no"
                + " watch.")
        String driftWindow,
    @Default("false")
        @JsonPropertyDescription(
            "With driftWindow: when the stable drifts, start a new revision calibrated on what its"
                + " pods captured (spec.rollout.capture): a file calibration becomes mixed (half"
                + " file, half captured), and with a fidelity gate metric the captured held-out"
                + " half joins the evaluation as the set captured. It passes the same gate and"
                + " canary; the stable serves meanwhile. At most one per stable revision while it"
                + " stays on; turned off, the spec as written is the revision again.")
        Boolean autoRecalibrate) {

  /** Without autoRecalibrate, as written before it existed. */
  public AnalysisSpec(
      String interval,
      Integer failureLimit,
      Double minAgreement,
      Double maxErrorRate,
      Double maxP99LatencyMs,
      String prometheus,
      String prometheusUrl,
      String inconclusiveLimit,
      OnInconclusive onInconclusive,
      Double shadowFraction,
      Integer minSamples,
      Double confidence,
      String driftWindow) {
    this(
        interval,
        failureLimit,
        minAgreement,
        maxErrorRate,
        maxP99LatencyMs,
        prometheus,
        prometheusUrl,
        inconclusiveLimit,
        onInconclusive,
        shadowFraction,
        minSamples,
        confidence,
        driftWindow,
        null);
  }

  /** Whether a drifting stable starts a recalibration; absent is off. */
  public boolean recalibratesOnDrift() {
    return Boolean.TRUE.equals(autoRecalibrate);
  }

  /** What a canary step does when no analysis passed within its inconclusive limit. */
  public enum OnInconclusive {
    @JsonProperty("rollback")
    ROLLBACK,
    @JsonProperty("pause")
    PAUSE
  }
}
