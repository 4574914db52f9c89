package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where a stage's samples come from. */
public enum DataSource {
  /** The file the spec names. */
  @JsonProperty("file")
  FILE,
  /** What the model's serving pods captured (spec.rollout.capture). */
  @JsonProperty("captured")
  CAPTURED,
  /** Half the file, half what was captured (calibration only). */
  @JsonProperty("mixed")
  MIXED
}
