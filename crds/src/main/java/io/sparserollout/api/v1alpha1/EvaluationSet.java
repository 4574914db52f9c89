package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** One named held-out set of spec.evaluation.sets; the gate applies to each. */
public record EvaluationSet(
    @Required
        @Pattern(NAME_PATTERN)
        @JsonPropertyDescription(
            "The set's name in status.gate.sets and the report: lower-case letters, digits and"
                + " '-', at most 40 characters.")
        String name,
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of a text file, one sample per line (or an .npz file of tensors, for a model"
                + " without a tokenizer). Empty with source file: the calibration"
                + " file's samples after those used for calibration; required when calibration"
                + " is captured or the plan fine-tunes.")
        String dataUri,
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of labels, one per line aligned with dataUri; every set needs them when the gate"
                + " metric is accuracy, ndcg or pnr.")
        String labelsUri,
    @Default("file")
        @JsonPropertyDescription(
            "file: dataUri. captured: the held-out half of what the model's serving pods captured"
                + " (spec.rollout.capture), fidelity metrics only.")
        DataSource source) {

  public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$";

  /** Whether the set is the captured held-out half; null source is file, as the default. */
  public boolean captured() {
    return source == DataSource.CAPTURED;
  }
}
