package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Held-out data on which dense and sparse models are compared. */
public record EvaluationSpec(
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of a text file, one sample per line, never used for calibration or training."
                + " Empty: the calibration file's samples after those used for calibration; after a"
                + " captured or mixed calibration, the captured held-out half.")
        String dataUri,
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of labels, one per line aligned with dataUri; needed by the accuracy, ndcg and"
                + " pnr metrics.")
        String labelsUri,
    @Default("300") @Min(2) @Max(1000000) @JsonPropertyDescription("Samples evaluated.")
        Integer samples,
    @Default("5")
        @Min(1)
        @Max(100)
        @JsonPropertyDescription("k for top-k neighbour agreement and NDCG@k.")
        Integer topK,
    @Default("file")
        @JsonPropertyDescription(
            "file: dataUri (without one, the calibration data's held-out part). captured: the held-out half"
                + " of the inputs the model's serving pods captured (spec.rollout.capture); no"
                + " labels, so fidelity metrics only.")
        DataSource source) {

  /** Whether evaluation reads captured samples; mixed is for calibration only. */
  public boolean captured() {
    return source == DataSource.CAPTURED;
  }
}
