package io.sparserollout.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineKeyTest {
  private static final EngineKey A100 =
      new EngineKey(
          "sha256:0123456789abcdef00", "tensorrt", "fp16", "10.15.1", "NVIDIA A100-SXM4-80GB");

  @Test
  void idNamesEverythingThePlanDependsOn() {
    assertThat(A100.id())
        .isEqualTo("sha256-0123456789ab_tensorrt_fp16_10.15.1_nvidia-a100-sxm4-80gb");
  }

  @Test
  void aPlanRunsOnlyWithItsVersionAndGpuProduct() {
    assertThat(A100.mismatch(A100)).isNull();
    assertThat(
            A100.mismatch(
                new EngineKey("x", "tensorrt", "fp16", "10.15.1", "NVIDIA H100 80GB HBM3")))
        .contains("built on NVIDIA A100-SXM4-80GB")
        .contains("NVIDIA H100 80GB HBM3");
    assertThat(A100.mismatch(new EngineKey("x", "tensorrt", "fp16", "10.14.0", A100.device())))
        .contains("10.15.1")
        .contains("10.14.0");
  }

  @Test
  void digestIsTheFilesSha256(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("m.onnx"), "abc");
    assertThat(EngineKey.sha256(file))
        .isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
