package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** How far the running stage has come, as its pod last said. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StageProgressStatus(
    @JsonPropertyDescription("The stage reporting: finetune.") String stage,
    @JsonPropertyDescription("Steps done.") Integer step,
    @JsonPropertyDescription("Steps in all.") Integer steps,
    @JsonPropertyDescription(
            "Held-out fidelity (mean cosine to the dense model) last measured; the first is the"
                + " starting model's.")
        Double heldOutFidelity,
    @JsonPropertyDescription("Seconds left at the pace of the steps so far.") Long secondsLeft) {}
