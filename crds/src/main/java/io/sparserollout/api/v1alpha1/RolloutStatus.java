package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Canary progress. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RolloutStatus(
    @JsonPropertyDescription(
            "Revision serving the rest of the traffic: a pipeline revision, or dense (the source"
                + " model) before the first promotion.")
        String stableRevision,
    @JsonPropertyDescription("Revision under canary, if any.") String canaryRevision,
    @JsonPropertyDescription("Index of the current canary step.") Integer step,
    @JsonPropertyDescription("Percent of traffic on the canary.") Integer canaryWeight,
    @JsonPropertyDescription("When the current step began.") String stepStartedAt,
    @JsonPropertyDescription("When the canary was last measured.") String lastAnalysisAt,
    @JsonPropertyDescription("Passed measurements so far at this step.") Integer passed,
    @JsonPropertyDescription("Failed measurements so far at this step.") Integer failures,
    @JsonPropertyDescription("Latest measured shadow agreement with the dense baseline.")
        Double agreement,
    @JsonPropertyDescription("Latest measured fraction of failed requests.") Double errorRate,
    @JsonPropertyDescription("Latest measured p99 request latency in milliseconds.")
        Double p99LatencyMs,
    @JsonPropertyDescription(
            "True when every step passed and the canary waits for the sparserollout.io/promote"
                + " annotation (autoPromote false).")
        Boolean awaitingPromotion,
    @JsonPropertyDescription("Result of the latest analysis, with the failing metric and value.")
        String message) {}
