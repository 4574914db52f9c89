package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where a SparseModel revision stands in the pipeline. */
public enum Phase {
  @JsonProperty("Pending")
  PENDING,
  @JsonProperty("Pruning")
  PRUNING,
  @JsonProperty("FineTuning")
  FINE_TUNING,
  @JsonProperty("Quantizing")
  QUANTIZING,
  @JsonProperty("BuildingEngine")
  BUILDING_ENGINE,
  @JsonProperty("Evaluating")
  EVALUATING,
  @JsonProperty("GatePassed")
  GATE_PASSED,
  @JsonProperty("GateFailed")
  GATE_FAILED,
  @JsonProperty("RollingOut")
  ROLLING_OUT,
  @JsonProperty("Promoted")
  PROMOTED,
  @JsonProperty("RolledBack")
  ROLLED_BACK,
  @JsonProperty("Failed")
  FAILED;

  /** True for phases the pipeline does not leave without a new spec revision. */
  public boolean isTerminal() {
    return this == GATE_FAILED || this == PROMOTED || this == ROLLED_BACK || this == FAILED;
  }
}
