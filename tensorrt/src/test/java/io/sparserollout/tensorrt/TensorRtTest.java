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
  void theJniBridgesTravelWithTheBindingsSoTheImagesCanLoadAGpusLibraries() {
    // Without them TensorRT cannot load on any node, whatever TensorRT and CUDA it has.
    String platform = org.bytedeco.javacpp.Loader.getPlatform();
    for (String bridge :
        java.util.List.of(
            "org/bytedeco/tensorrt/" + platform + "/libjninvinfer.so",
            "org/bytedeco/tensorrt/" + platform + "/libjninvonnxparser.so",
            "org/bytedeco/cuda/" + platform + "/libjnicudart.so",
            "org/bytedeco/javacpp/" + platform + "/libjnijavacpp.so")) {
      assertThat(TensorRtTest.class.getClassLoader().getResource(bridge)).as(bridge).isNotNull();
    }
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
