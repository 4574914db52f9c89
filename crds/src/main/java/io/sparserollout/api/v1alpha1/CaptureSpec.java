package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/**
 * Opt-in capture of live inputs: a copy of what clients send, kept in the artifact store as data
 * later revisions can calibrate and evaluate on. Off unless {@code enabled} is true.
 */
public record CaptureSpec(
    @Default("false")
        @JsonPropertyDescription(
            "Copy a sample of the inputs clients send to the serving pods into the artifact store"
                + " (a copy of user data: turn it on only where that is allowed). false with this"
                + " block present: capture nothing new, but keep deleting what is past retention.")
        Boolean enabled,
    @Default("0.01")
        @Min(0)
        @Max(1)
        @JsonPropertyDescription("Fraction of successful requests whose inputs are copied.")
        Double fraction,
    @Default("1000")
        @Min(1)
        @Max(1000000)
        @JsonPropertyDescription(
            "Most samples (input rows) kept per clock hour (UTC), all serving pods together.")
        Integer maxPerHour,
    @Default("10000")
        @Min(1)
        @Max(10000000)
        @JsonPropertyDescription(
            "Most samples kept at once, all serving pods together; capture pauses at this count"
                + " until retention frees room.")
        Integer maxTotal,
    @Default("168h")
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription(
            "How long a captured hour is kept: the serving pods delete it once it is older.")
        String retention) {

  public boolean capturing() {
    return Boolean.TRUE.equals(enabled);
  }
}
