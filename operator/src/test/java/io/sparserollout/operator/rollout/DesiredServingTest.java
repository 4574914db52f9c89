package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.placement.GpuPlacement;
import org.junit.jupiter.api.Test;

/** Which serving Deployments are re-applied from the spec, and which keep what they serve. */
class DesiredServingTest {
  private static final ServingSettings SETTINGS = ServingResourcesTest.SETTINGS;
  private final SparseModel gpu = Fixtures.minilm(s -> s.with("engine").put("backend", "tensorrt"));

  @Test
  void aRevisionWhosePipelineRunsAgainKeepsTheGpuItsDeploymentRecords() {
    String revision = "aaaaaaaaaa";
    Deployment running =
        ServingResources.deployment(
            gpu, ServedModel.revision(gpu, revision, "NVIDIA-A100-SXM4-40GB"), 2, SETTINGS);
    SparseModelStatus rerun = new SparseModelStatus();
    rerun.setRevision(revision); // reverted to: its engine is not known again yet

    ServedModel served = Serving.desiredServing(gpu, rerun, revision, running).orElseThrow();

    assertThat(served.placement()).isInstanceOf(GpuPlacement.OnGpu.class);
    assertThat(served.uri()).endsWith("/engine/model.plan");

    rerun.setEngine(
        new EngineStatus(
            "tensorrt", "fp16", "10.15", "NVIDIA-A100-SXM4-40GB", 36, 1.4, "x", null, null));
    assertThat(Serving.desiredServing(gpu, rerun, revision, running).orElseThrow().placement())
        .isInstanceOf(GpuPlacement.OnGpu.class);
  }

  @Test
  void theDenseStableKeepsItsModelWhenTheSpecNamesAnotherSource() {
    SparseModel before = Fixtures.minilm();
    Deployment dense =
        ServingResources.deployment(
            before, ServedModel.dense(before, ServedModel.DENSE), 2, SETTINGS);
    SparseModel after =
        Fixtures.minilm(s -> s.with("source").put("uri", "pvc://models/other/model.onnx"));
    SparseModelStatus status = new SparseModelStatus();

    assertThat(Serving.desiredServing(after, status, ServedModel.DENSE, dense)).isEmpty();
    assertThat(Serving.desiredServing(before, status, ServedModel.DENSE, dense)).isPresent();
    assertThat(
            Serving.desiredServing(after, status, ServedModel.BASELINE, dense).orElseThrow().uri())
        .isEqualTo("pvc://models/other/model.onnx");
  }

  @Test
  void aStableDeploymentDeletedWhileAnotherRevisionRunsComesBackServingWhatItServed() {
    SparseModel model = Fixtures.minilm();
    // The stable served its run folder's engine (or another model's, reused), with its digest.
    ServedModel served =
        ServedModel.revision(model, "old", null, "pvc://artifacts/ml/minilm/old/run-1/engine")
            .withSha256("a".repeat(64));
    Deployment stable = ServingResources.deployment(model, served, 2, SETTINGS);
    SparseModelStatus status = new SparseModelStatus();
    status.setRevision("new");
    status.setEngine(
        new EngineStatus("onnxruntime", "fp32", null, null, null, 1.1, "x", "b".repeat(64), null));
    status.setRollout(
        io.sparserollout.api.v1alpha1.RolloutStatus.from(null)
            .stable("old")
            .stableServes(ServedModel.recordedText(stable))
            .build());

    ServedModel back = Serving.desiredServing(model, status, "old", null).orElseThrow();

    assertThat(back.uri()).isEqualTo("pvc://artifacts/ml/minilm/old/run-1/engine/model.onnx");
    assertThat(back.sha256()).isEqualTo("a".repeat(64));
  }

  @Test
  void anOlderRevisionIsOnlyScaled() {
    SparseModel model = Fixtures.minilm();
    Deployment older =
        ServingResources.deployment(model, ServedModel.revision(model, "old", null), 2, SETTINGS);
    SparseModelStatus status = new SparseModelStatus();
    status.setRevision("new");

    assertThat(Serving.desiredServing(model, status, "old", older)).isEmpty();
    assertThat(Serving.desiredServing(model, status, "old", null)).isPresent();
  }
}
