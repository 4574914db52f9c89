package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** One canary step. */
public record CanaryStep(
    @Required
        @Min(0)
        @Max(100)
        @JsonPropertyDescription("Percent of traffic sent to the new revision.")
        Integer weight,
    @Default("1m")
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription("How long the step holds before the next, e.g. 30s, 5m, 1h30m.")
        String pause) {

  /** Go-style duration in h, m and s units, at least one of them: 30s, 5m, 1h30m. */
  public static final String DURATION_PATTERN =
      "^([0-9]+h([0-9]+m)?([0-9]+s)?|[0-9]+m([0-9]+s)?|[0-9]+s)$";
}
