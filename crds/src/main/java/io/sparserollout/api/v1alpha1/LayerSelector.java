package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Selects prunable layers by name. */
public record LayerSelector(
    @JsonPropertyDescription(
            "Regular expressions over weight (initializer) names; a layer is pruned only if one"
                + " matches. Empty means every eligible MatMul, Gemm and Conv layer.")
        List<String> include,
    @JsonPropertyDescription(
            "Regular expressions over weight names of layers kept dense, e.g. the classifier"
                + " head. Exclusion wins over inclusion.")
        List<String> exclude) {}
