package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What pruning (and fine-tuning, quantization) produced. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PruningStatus(
    @JsonPropertyDescription("Method actually applied.") String method,
    @JsonPropertyDescription("Layers pruned to 2:4.") Integer layersPruned,
    @JsonPropertyDescription("Eligible-looking layers left dense, each with the reason.")
        List<SkippedLayer> layersSkipped,
    @JsonPropertyDescription(
            "Fraction of zero weights over the pruned layers (0.5 for full 2:4 coverage).")
        Double achievedSparsity,
    @JsonPropertyDescription("URI of the sparse (and quantized) ONNX model.") String artifactUri) {

  /** A layer that was not pruned. */
  public record SkippedLayer(
      @JsonPropertyDescription("Weight (initializer) name.") String name,
      @JsonPropertyDescription("Why it was skipped, e.g. K=30 is not a multiple of 4.")
          String reason) {}
}
