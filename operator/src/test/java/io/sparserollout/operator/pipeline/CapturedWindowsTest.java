package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.CapturedDataStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.stage.CapturedData;
import org.junit.jupiter.api.Test;

class CapturedWindowsTest {
  @Test
  void theFirstCalibrationAndTheEvaluationAreRecorded() {
    SparseModelStatus status = new SparseModelStatus();
    CapturedWindows.calibration(status, null);
    assertThat(status.getCapturedData()).as("files only: nothing to say").isNull();

    CapturedWindows.calibration(status, new CapturedData(128, 1, "2026-12-06T05", "2026-12-06T07"));
    CapturedWindows.calibration(status, new CapturedData(128, 0, "2026-12-06T07", "2026-12-06T07"));
    CapturedWindows.evaluation(status, new CapturedData(300, 0, "2026-12-06T04", "2026-12-06T07"));

    assertThat(status.getCapturedData())
        .isEqualTo(
            new CapturedDataStatus(
                new CapturedDataStatus.Window(128, 1, "2026-12-06T05", "2026-12-06T07"),
                new CapturedDataStatus.Window(300, 0, "2026-12-06T04", "2026-12-06T07")));
  }
}
