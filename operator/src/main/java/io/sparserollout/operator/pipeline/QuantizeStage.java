package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.QuantizeArgs;
import io.sparserollout.stage.QuantizeResult;

/** int8 post-training quantization with explicit Q/DQ at the spec's percentile. */
final class QuantizeStage implements StageHandler<QuantizeResult> {
  @Override
  public Class<QuantizeResult> resultType() {
    return QuantizeResult.class;
  }

  @Override
  public QuantizeArgs command(StageContext c) {
    return new QuantizeArgs(
        c.storage().artifact(c.inputOf(Stage.QUANTIZE)),
        c.storage().artifact(StageContext.QUANTIZED),
        c.tokenizer(),
        c.calibration(),
        c.spec().quantization().percentile(),
        c.maxLength(),
        c.inputSha256(Stage.QUANTIZE),
        c.report(Stage.QUANTIZE),
        c.calibrationPart(),
        c.calibrationAlsoCaptured(),
        c.task());
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, QuantizeResult result) {
    CapturedWindows.calibration(status, result.captured());
    ModelArtifacts.replace(status, c.storage().artifactUri(StageContext.QUANTIZED));
  }
}
