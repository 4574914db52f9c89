package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.QuantizeArgs;
import io.sparserollout.stage.QuantizeResult;

/** int8 PTQ of the dense model, as for the sparse one: the dense-int8 variant's model. */
final class QuantizeDenseStage implements StageHandler<QuantizeResult> {
  @Override
  public Class<QuantizeResult> resultType() {
    return QuantizeResult.class;
  }

  @Override
  public QuantizeArgs command(StageContext c) {
    return new QuantizeArgs(
        Storage.path(c.spec().source().uri()),
        c.storage().artifact(Variants.DENSE_QUANTIZED),
        c.tokenizer(),
        c.calibration(),
        c.spec().quantization().percentile(),
        c.maxLength(),
        null,
        c.report(Stage.QUANTIZE_DENSE),
        c.calibrationPart(),
        c.calibrationAlsoCaptured(),
        c.task());
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, QuantizeResult result) {
    CapturedWindows.calibration(status, result.captured());
    // Its digest is in completedStages, where the engine and evaluation stages read it.
  }
}
