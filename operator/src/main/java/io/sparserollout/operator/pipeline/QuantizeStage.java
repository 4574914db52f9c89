package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.util.ArrayList;
import java.util.List;

/** int8 post-training quantization with explicit Q/DQ at the spec's percentile. */
final class QuantizeStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "quantize",
                "--model",
                c.storage().artifact(c.inputOf(Stage.QUANTIZE)),
                "--out",
                c.storage().artifact(StageContext.QUANTIZED),
                "--tokenizer",
                c.tokenizer(),
                "--calibration",
                c.calibration(),
                "--percentile",
                c.spec().quantization().percentile().toString(),
                "--max-length",
                c.maxLength()));
    args.addAll(c.reportArgs(Stage.QUANTIZE));
    return args;
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, JsonNode result) {
    ModelArtifacts.replace(status, c.storage().artifactUri(StageContext.QUANTIZED));
  }
}
