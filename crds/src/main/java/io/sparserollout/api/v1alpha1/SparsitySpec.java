package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import java.util.List;

/** 2:4 pruning recipe. */
public record SparsitySpec(
    @Default("2:4")
        @JsonPropertyDescription(
            "Structured sparsity pattern. Only 2:4 (two zeros in every four consecutive weights"
                + " along the reduction dimension) is accelerated by sparse Tensor Cores.")
        Pattern pattern,
    @Default("sparsegpt")
        @JsonPropertyDescription(
            "magnitude: one-shot, keeps the two largest of every four weights. sparsegpt: one-shot"
                + " with calibration data and second-order weight updates. finetune: prunes, then"
                + " trains the sparse model with the dense model as teacher (see fineTuning).")
        Method method,
    @JsonPropertyDescription(
            "Progressive schedule: patterns applied in order with recovery fine-tuning after each,"
                + " e.g. [\"1:4\", \"2:4\"]. Must end with 2:4. Empty means one-shot.")
        List<Pattern> progressiveSteps,
    @Default("{}") @JsonPropertyDescription("Which layers are pruned.") LayerSelector layers,
    @Default("{}")
        @JsonPropertyDescription("Calibration data for sparsegpt, fine-tuning and int8 PTQ.")
        CalibrationSpec calibration) {

  public enum Pattern {
    @JsonProperty("1:4")
    ONE_FOUR,
    @JsonProperty("2:4")
    TWO_FOUR
  }

  public enum Method {
    @JsonProperty("magnitude")
    MAGNITUDE,
    @JsonProperty("sparsegpt")
    SPARSEGPT,
    @JsonProperty("finetune")
    FINETUNE
  }
}
