package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** Inference engine built from the sparse model. */
public record EngineSpec(
    @Default("onnxruntime")
        @JsonPropertyDescription(
            "tensorrt: a TensorRT plan with sparse weights (kSPARSE_WEIGHTS), built on and served"
                + " by the GPU product selected below. onnxruntime: CPU serving; needs no GPU.")
        Backend backend,
    @Default("fp16")
        @JsonPropertyDescription(
            "Kept for compatibility: each variant's name (fp16 or int8) now sets the TensorRT"
                + " precision; pin selection.variant for one. int8 still needs explicit Q/DQ from"
                + " quantization.mode int8-ptq or int8-qat.")
        Precision precision,
    @Default("{}") @JsonPropertyDescription("GPU nodes for building and serving (tensorrt only).")
        GpuSelector gpu,
    @Default("{}")
        @JsonPropertyDescription(
            "Input shape ranges the engine is optimized for (TensorRT optimization profile) and"
                + " timed at. For a model of tensors, a dynamic dimension other than the batch (an"
                + " image's height and width) takes the sequence values.")
        ShapeProfile shapes) {

  public enum Backend {
    @JsonProperty("tensorrt")
    TENSORRT,
    @JsonProperty("onnxruntime")
    ONNXRUNTIME
  }

  public enum Precision {
    @JsonProperty("fp16")
    FP16,
    @JsonProperty("int8")
    INT8
  }
}
