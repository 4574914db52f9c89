package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where a revision's artifacts and results came from when no stage ran for it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ArtifactReuse(
    @JsonPropertyDescription(
            "The SparseModel (same namespace) whose finished pipeline of the same revision and"
                + " artifact key was reused.")
        String model,
    @JsonPropertyDescription("The artifact key both share.") String key,
    @JsonPropertyDescription("When they were reused, RFC 3339.") String time) {}
