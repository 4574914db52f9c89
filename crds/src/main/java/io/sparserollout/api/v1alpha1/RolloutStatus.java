package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Canary progress. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RolloutStatus(
    @JsonPropertyDescription("Revision serving the rest of the traffic.") String stableRevision,
    @JsonPropertyDescription("Revision under canary, if any.") String canaryRevision,
    @JsonPropertyDescription("Index of the current canary step.") Integer step,
    @JsonPropertyDescription("Percent of traffic on the canary.") Integer canaryWeight,
    @JsonPropertyDescription("Latest measured shadow agreement with the dense baseline.")
        Double agreement,
    @JsonPropertyDescription("Failed measurements so far at this step.") Integer failures,
    @JsonPropertyDescription("Result of the latest analysis, with the failing metric and value.")
        String message) {}
