package io.sparserollout.serving.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.tensorrt.Gpus;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorRtBackendTest {
  @Test
  void withoutAGpuThePodFailsAtStartWithTheReason(@TempDir Path dir) throws Exception {
    assumeFalse(Gpus.driverPresent(), "this machine has a GPU");
    Path plan = Files.write(dir.resolve("model.plan"), new byte[] {1, 2, 3});
    Files.writeString(
        dir.resolve("model.plan.key.json"),
        "{\"modelDigest\":\"sha256:00\",\"backend\":\"tensorrt\",\"precision\":\"fp16\","
            + "\"runtimeVersion\":\"10.15.1\",\"device\":\"NVIDIA A100-SXM4-80GB\"}");
    assertThatThrownBy(() -> Backends.open("tensorrt", plan, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("BACKEND=tensorrt needs an NVIDIA GPU and driver")
        .hasMessageContaining("BACKEND=onnxruntime");
  }

  @Test
  void ofPlansBuiltOnSeveralGpuProductsThePodTakesTheOneItsGpuBuilt(@TempDir Path dir)
      throws Exception {
    Backends.Plan a100 = plan(dir.resolve("a100"), "NVIDIA A100-SXM4-80GB");
    Backends.Plan l4 = plan(dir.resolve("l4"), "NVIDIA L4");
    assertThat(TensorRtBackend.planFor(java.util.List.of(a100, l4), "NVIDIA L4")).isEqualTo(l4);
    // A plan whose key is gone does not keep the pod from the one that is its GPU's.
    Path keyless = Files.createDirectories(dir.resolve("keyless")).resolve("model.plan");
    Files.write(keyless, new byte[] {1});
    assertThat(
            TensorRtBackend.planFor(
                java.util.List.of(new Backends.Plan(keyless, null), l4), "NVIDIA L4"))
        .isEqualTo(l4);
    assertThatThrownBy(
            () -> TensorRtBackend.planFor(java.util.List.of(a100, l4), "NVIDIA H100 80GB HBM3"))
        .hasMessage(
            "BACKEND=tensorrt: this pod's GPU, NVIDIA H100 80GB HBM3, has no plan: they were built"
                + " on NVIDIA A100-SXM4-80GB, NVIDIA L4");
  }

  private static Backends.Plan plan(Path dir, String device) throws Exception {
    Files.createDirectories(dir);
    Path plan = Files.write(dir.resolve("model.plan"), new byte[] {1, 2, 3});
    Files.writeString(
        dir.resolve("model.plan.key.json"),
        "{\"modelDigest\":\"sha256:00\",\"backend\":\"tensorrt\",\"precision\":\"fp16\","
            + "\"runtimeVersion\":\"10.15.1\",\"device\":\""
            + device
            + "\"}");
    return new Backends.Plan(plan, "sha256:" + "0".repeat(64));
  }

  @Test
  void aPlanWithoutItsKeyFileIsRefusedBeforeAnyGpuWork(@TempDir Path dir) throws Exception {
    // What a fetch that copied only the plan left: nothing says which GPU and TensorRT it suits.
    Path plan = Files.write(dir.resolve("model.plan"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Backends.open("tensorrt", plan, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has no key file model.plan.key.json beside it");
  }

  @Test
  void tensorsGoToTheGpuAsLittleEndianBytesAndBack() {
    float[] values = {1.5f, -2f, 3.25f};
    Tensor t = new Tensor("x", Datatype.FP32, new long[] {3}, values);
    assertThat(
            (float[])
                TensorRtBackend.fromLittleEndian(Datatype.FP32, TensorRtBackend.littleEndian(t)))
        .containsExactly(values);
    long[] ids = {101, 7, 102};
    Tensor l = new Tensor("ids", Datatype.INT64, new long[] {3}, ids);
    assertThat(
            (long[])
                TensorRtBackend.fromLittleEndian(Datatype.INT64, TensorRtBackend.littleEndian(l)))
        .containsExactly(ids);
    short[] halves = {0x3C00, (short) 0xC000};
    Tensor h = new Tensor("h", Datatype.FP16, new long[] {2}, halves);
    assertThat(
            (short[])
                TensorRtBackend.fromLittleEndian(Datatype.FP16, TensorRtBackend.littleEndian(h)))
        .containsExactly(halves);
  }
}
