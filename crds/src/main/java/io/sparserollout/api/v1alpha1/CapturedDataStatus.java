package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the revision's stages read of the samples the serving pods captured. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CapturedDataStatus(
    @JsonPropertyDescription(
            "The captured samples the first calibrating stage read (SparseGPT, else int8 PTQ).")
        Window calibration,
    @JsonPropertyDescription("The captured samples the evaluation held out and compared on.")
        Window evaluation) {

  /** Samples read, lines that could not be, and the UTC clock hours they came from. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Window(
      @JsonPropertyDescription("Samples used.") Integer samples,
      @JsonPropertyDescription(
              "Lines that could not be read: torn by a pod stopped mid-write, or without input_ids.")
          Integer unreadable,
      @JsonPropertyDescription("The oldest hour read, yyyy-MM-ddTHH (UTC).") String firstHour,
      @JsonPropertyDescription("The newest hour read, yyyy-MM-ddTHH (UTC).") String lastHour) {}

  public CapturedDataStatus withCalibration(Window window) {
    return new CapturedDataStatus(window, evaluation);
  }

  public CapturedDataStatus withEvaluation(Window window) {
    return new CapturedDataStatus(calibration, window);
  }
}
