package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Unlabeled samples that represent production inputs. */
public record CalibrationSpec(
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of a text file with one sample (sentence) per line, or, for a model without a"
                + " tokenizer, an .npz file of arrays named after its inputs (the first dimension"
                + " the sample). Required by sparsegpt and int8 quantization unless source is"
                + " captured, and by finetune always.")
        String dataUri,
    @Default("128")
        @Min(1)
        @Max(100000)
        @JsonPropertyDescription(
            "How many samples are used. SparseGPT quality rises with it (32: 0.84, 512: 0.91 mean"
                + " cosine on all-MiniLM-L6-v2).")
        Integer samples,
    @Default("file")
        @JsonPropertyDescription(
            "file: dataUri. captured: the inputs the model's serving pods captured"
                + " (spec.rollout.capture), newest first; calibration and evaluation then take"
                + " disjoint halves of them. mixed: half the samples from dataUri, half captured.")
        DataSource source) {

  /** Whether calibration reads captured samples (captured or mixed). */
  public boolean captured() {
    return source == DataSource.CAPTURED || source == DataSource.MIXED;
  }

  public boolean mixed() {
    return source == DataSource.MIXED;
  }
}
