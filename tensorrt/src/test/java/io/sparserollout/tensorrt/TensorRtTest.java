package io.sparserollout.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** On a machine without an NVIDIA driver (CI), everything fails fast, before native code loads. */
class TensorRtTest {
  @Test
  void withoutAGpuTheBuilderSaysSo() {
    assumeFalse(Gpus.driverPresent(), "this machine has a GPU");
    assertThatThrownBy(
            () ->
                PlanBuilder.build(
                    Path.of("m.onnx"), "fp16", true, new int[] {1, 1, 1}, new int[] {1, 1, 1}))
        .isInstanceOf(TensorRtUnavailable.class)
        .hasMessageContaining("needs an NVIDIA GPU and driver");
    assertThatThrownBy(() -> new PlanRunner(new byte[16]))
        .isInstanceOf(TensorRtUnavailable.class)
        .hasMessageContaining("no /dev/nvidia0");
  }

  @Test
  void thePinnedVersionIsKnownWithoutNativeCode() {
    assertThat(TensorRt.version()).startsWith("10.");
  }

  @Test
  void tensorWidthsMatchTensorRtDatatypes() {
    assertThat(PlanRunner.width("kHALF")).isEqualTo(2);
    assertThat(PlanRunner.width("kFLOAT")).isEqualTo(4);
    assertThat(PlanRunner.width("kINT64")).isEqualTo(8);
    assertThatThrownBy(() -> PlanRunner.width("kFP4")).hasMessageContaining("kFP4");
  }
}
