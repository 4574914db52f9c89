package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** min <= opt <= max is checked by the operator (the API server cannot compare fields). */
public record ShapeProfile(
    @Default("1") @Min(1) @Max(4096) @JsonPropertyDescription("Smallest batch size.")
        Integer minBatch,
    @Default("8") @Min(1) @Max(4096) @JsonPropertyDescription("Batch size tuned for.")
        Integer optBatch,
    @Default("32") @Min(1) @Max(4096) @JsonPropertyDescription("Largest batch size.")
        Integer maxBatch,
    @Default("1") @Min(1) @Max(8192) @JsonPropertyDescription("Shortest sequence length.")
        Integer minSequence,
    @Default("128") @Min(1) @Max(8192) @JsonPropertyDescription("Sequence length tuned for.")
        Integer optSequence,
    @Default("128") @Min(1) @Max(8192) @JsonPropertyDescription("Longest sequence length.")
        Integer maxSequence) {}
