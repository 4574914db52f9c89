package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** int8 quantization on top of sparsity. */
public record QuantizationSpec(
    @Default("none")
        @JsonPropertyDescription(
            "none: keep float weights. int8-ptq: post-training quantization with calibrated"
                + " scales and explicit Q/DQ nodes. int8-qat: quantization-aware training with"
                + " fake-quant and a straight-through estimator (uses fineTuning).")
        Mode mode,
    @Default("99.99")
        @Min(50)
        @Max(100)
        @JsonPropertyDescription(
            "int8-ptq calibration: the scale covers this percentile of each tensor's absolute"
                + " values.")
        Double percentile) {

  public enum Mode {
    @JsonProperty("none")
    NONE,
    @JsonProperty("int8-ptq")
    INT8_PTQ,
    @JsonProperty("int8-qat")
    INT8_QAT
  }
}
