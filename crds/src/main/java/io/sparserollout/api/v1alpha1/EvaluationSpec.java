package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** Held-out data on which dense and sparse models are compared. */
public record EvaluationSpec(
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of a text file, one sample per line (or, for a model without a tokenizer, an .npz"
                + " file of arrays named after its inputs), never used for calibration or training."
                + " Empty: the calibration file's samples after those used for calibration; after a"
                + " captured or mixed calibration, the captured held-out half. Required when the"
                + " plan fine-tunes (it trains on the calibration file).")
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
        DataSource source,
    @Size(min = 1, max = 4)
        @JsonPropertyDescription(
            "Several named held-out sets instead of dataUri, labelsUri and source, e.g. the"
                + " user's file, captured traffic and a domain the model must not regress on. Each"
                + " is evaluated on the same models; spec.gate.perSet says how the gate combines"
                + " them. At most 4: each set's numbers travel in the stage's 4 KB result.")
        List<EvaluationSet> sets) {

  /** Whether evaluation reads captured samples; mixed is for calibration only. */
  public boolean captured() {
    return source == DataSource.CAPTURED;
  }

  /** Whether evaluation is on named sets rather than one. */
  public boolean hasSets() {
    return sets != null && !sets.isEmpty();
  }

  /** Whether any held-out data is the captured held-out half, on its own or as a named set. */
  public boolean readsCaptured() {
    return captured() || (hasSets() && sets.stream().anyMatch(EvaluationSet::captured));
  }
}
