package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Ordered canary steps. */
public record CanarySpec(
    @JsonPropertyDescription(
            "Traffic weights for the new revision, in order, each held for its pause while analysis"
                + " runs. Empty: 10, 50, then 100 percent, 1 minute each.")
        List<CanaryStep> steps) {}
