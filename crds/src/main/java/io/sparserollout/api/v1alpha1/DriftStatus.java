package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The promoted model's shadow agreement with the dense baseline, watched after promotion
 * (spec.rollout.analysis.driftWindow): the counters last read, so the next reading judges only what
 * came since, and how long the agreement has stayed below minAgreement.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DriftStatus(
    @JsonPropertyDescription("The stable revision watched.") String revision,
    @JsonPropertyDescription(
            "The ready pods the counters below were summed over (names and restarts, hashed):"
                + " counters are compared only between readings of the same pods.")
        String pods,
    @JsonPropertyDescription("When its pods' counters were last read.") String checkedAt,
    @JsonPropertyDescription("Sum of shadow agreements its pods reported then.")
        Double agreementSum,
    @JsonPropertyDescription("Shadow comparisons its pods reported then.") Double comparisons,
    @JsonPropertyDescription("Sum of squared disagreements its pods reported then.")
        Double disagreementSquares,
    @JsonPropertyDescription("Mean shadow agreement over the last judged interval.")
        Double agreement,
    @JsonPropertyDescription("Shadow comparisons in the last judged interval.")
        Double intervalComparisons,
    @JsonPropertyDescription(
            "When a reading first showed the agreement below minAgreement, with none shown at or"
                + " above it since; absent otherwise.")
        String belowSince,
    @JsonPropertyDescription("Whether the model has drifted (the QualityDrift condition).")
        Boolean drifting,
    @JsonPropertyDescription("The last judgement in words, with the numbers.") String message) {}
