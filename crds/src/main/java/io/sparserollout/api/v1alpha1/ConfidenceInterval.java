package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A two-sided confidence interval at spec.rollout.analysis.confidence. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfidenceInterval(
    @JsonPropertyDescription("Lower end.") Double low,
    @JsonPropertyDescription("Upper end.") Double high) {}
