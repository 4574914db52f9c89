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
    @Default(DEFAULT_FRACTION)
        @Min(0)
        @Max(1)
        @JsonPropertyDescription("Fraction of successful requests whose inputs are copied.")
        Double fraction,
    @Default(DEFAULT_PER_HOUR)
        @Min(1)
        @Max(1000000)
        @JsonPropertyDescription(
            "Most samples (input rows) kept per clock hour (UTC), all serving pods together.")
        Integer maxPerHour,
    @Default(DEFAULT_TOTAL)
        @Min(1)
        @Max(10000000)
        @JsonPropertyDescription(
            "Most samples kept at once, all serving pods together; capture pauses at this count"
                + " until retention frees room.")
        Integer maxTotal,
    @Default(DEFAULT_RETENTION)
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription(
            "How long a captured hour is kept: the serving pods delete it once it is older.")
        String retention) {

  public static final String DEFAULT_FRACTION = "0.01";
  public static final String DEFAULT_PER_HOUR = "1000";
  public static final String DEFAULT_TOTAL = "10000";
  public static final String DEFAULT_RETENTION = "168h";

  public boolean capturing() {
    return Boolean.TRUE.equals(enabled);
  }

  // The API server fills the defaults in; these are for specs that did not pass through one.

  public double fractionOrDefault() {
    return fraction != null ? fraction : Double.parseDouble(DEFAULT_FRACTION);
  }

  public int maxPerHourOrDefault() {
    return maxPerHour != null ? maxPerHour : Integer.parseInt(DEFAULT_PER_HOUR);
  }

  public int maxTotalOrDefault() {
    return maxTotal != null ? maxTotal : Integer.parseInt(DEFAULT_TOTAL);
  }

  public String retentionOrDefault() {
    return retention != null ? retention : DEFAULT_RETENTION;
  }
}
