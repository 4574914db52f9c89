package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The recalibrations spec.rollout.analysis.autoRecalibrate started. Held in status because the
 * operator never writes spec: the count is part of the revision, so no recalibrated revision
 * repeats an earlier one's name.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RecalibrationStatus(
    @JsonPropertyDescription(
            "Recalibrated revisions started so far: one at each recalibration and one at each"
                + " spec change while recalibrated; part of the revision, so none repeats.")
        Integer count,
    @JsonPropertyDescription(
            "Whether the pipeline reads the spec recalibrated: set by a recalibration, cleared"
                + " when autoRecalibrate is turned off.")
        Boolean active,
    @JsonPropertyDescription(
            "The revision of the spec as written when count last grew: a spec change while"
                + " recalibrated grows it.")
        String specRevision,
    @JsonPropertyDescription(
            "The stable revision whose drift started the last recalibration: each stable"
                + " revision starts at most one.")
        String fromRevision,
    @JsonPropertyDescription("When the last recalibration started.") String startedAt,
    @JsonPropertyDescription("The drift that started it.") String reason) {

  public boolean inForce() {
    return Boolean.TRUE.equals(active);
  }

  public RecalibrationStatus inactive() {
    return new RecalibrationStatus(count, false, specRevision, fromRevision, startedAt, reason);
  }

  /** One more recalibrated revision, for the spec whose own revision is {@code specRevision}. */
  public RecalibrationStatus next(String specRevision) {
    return new RecalibrationStatus(
        count == null ? 1 : count + 1, true, specRevision, fromRevision, startedAt, reason);
  }
}
