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
    @JsonPropertyDescription("URI of the sparse (and quantized) ONNX model.") String artifactUri,
    @JsonPropertyDescription(
            "What fine-tuning did, when the plan has a fine-tuning stage; empty until it ends.")
        FineTuningResult fineTuning) {

  /** The pruning stage's result, before any fine-tuning. */
  public PruningStatus(
      String method,
      Integer layersPruned,
      List<SkippedLayer> layersSkipped,
      Double achievedSparsity,
      String artifactUri) {
    this(method, layersPruned, layersSkipped, achievedSparsity, artifactUri, null);
  }

  /** The same with the latest model's location. */
  public PruningStatus withArtifactUri(String uri) {
    return new PruningStatus(
        method, layersPruned, layersSkipped, achievedSparsity, uri, fineTuning);
  }

  /** The same with what fine-tuning did. */
  public PruningStatus withFineTuning(FineTuningResult result) {
    return new PruningStatus(
        method, layersPruned, layersSkipped, achievedSparsity, artifactUri, result);
  }

  /**
   * Fidelity is the mean cosine between the model's and the dense model's pooled outputs, on
   * sentences the Job set aside from its training data.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FineTuningResult(
      @JsonPropertyDescription("Training steps run.") Integer steps,
      @JsonPropertyDescription("Held-out fidelity of the model fine-tuning started from.")
          Double initialFidelity,
      @JsonPropertyDescription("Held-out fidelity of the fine-tuned model.") Double finalFidelity,
      @JsonPropertyDescription("Training time in seconds.") Double seconds) {}

  /** A layer that was not pruned. */
  public record SkippedLayer(
      @JsonPropertyDescription("Weight (initializer) name.") String name,
      @JsonPropertyDescription("Why it was skipped, e.g. K=30 is not a multiple of 4.")
          String reason) {}
}
