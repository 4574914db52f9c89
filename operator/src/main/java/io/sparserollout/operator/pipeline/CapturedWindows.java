package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.CapturedDataStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.CapturedData;

/** Records in status what a stage read of the captured samples. */
final class CapturedWindows {
  private CapturedWindows() {}

  /**
   * The first calibrating stage's read: SparseGPT's for the served model, else int8 PTQ's (the
   * dense int8 candidate's calibration, which comes later, reads the same half).
   */
  static void calibration(SparseModelStatus status, CapturedData read) {
    if (read != null && current(status).calibration() == null) {
      status.setCapturedData(current(status).withCalibration(window(read)));
    }
  }

  static void evaluation(SparseModelStatus status, CapturedData read) {
    if (read != null) {
      status.setCapturedData(current(status).withEvaluation(window(read)));
    }
  }

  private static CapturedDataStatus current(SparseModelStatus status) {
    return status.getCapturedData() == null
        ? new CapturedDataStatus(null, null)
        : status.getCapturedData();
  }

  private static CapturedDataStatus.Window window(CapturedData read) {
    return new CapturedDataStatus.Window(
        read.samples(), read.unreadable(), read.firstHour(), read.lastHour());
  }
}
