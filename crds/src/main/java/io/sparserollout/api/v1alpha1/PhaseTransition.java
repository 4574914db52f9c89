package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One entry of the transition history. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PhaseTransition(
    @JsonPropertyDescription("Phase entered.") Phase phase,
    @JsonPropertyDescription("Revision it applies to.") String revision,
    @JsonPropertyDescription("When, RFC 3339.") String time,
    @JsonPropertyDescription("Why.") String message) {}
