package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The recalibrations spec.rollout.analysis.autoRecalibrate started. Held in status because the
 * operator never writes spec: while one is in force the pipeline reads the spec recalibrated.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RecalibrationStatus(
    @JsonPropertyDescription(
            "Recalibrations recorded so far (one turned off before its revision started counts"
                + " too).")
        Integer count,
    @JsonPropertyDescription(
            "Whether the pipeline reads the spec recalibrated: set by a recalibration, cleared"
                + " when autoRecalibrate is turned off.")
        Boolean active,
    @JsonPropertyDescription(
            "The stable revision whose drift started the last recalibration: each stable"
                + " revision starts at most one while autoRecalibrate stays on.")
        String fromRevision,
    @JsonPropertyDescription("When the last recalibration started.") String startedAt,
    @JsonPropertyDescription("The drift that started it.") String reason) {

  public boolean inForce() {
    return Boolean.TRUE.equals(active);
  }

  /** Ended by autoRecalibrate turned off: a stable may start one again once it is back on. */
  public RecalibrationStatus ended() {
    return new RecalibrationStatus(count, false, null, startedAt, reason);
  }
}
