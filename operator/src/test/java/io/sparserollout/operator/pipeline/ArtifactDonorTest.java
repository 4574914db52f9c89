package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.StageCompletion;
import io.sparserollout.operator.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ArtifactDonorTest {
  private static final String IMAGE = "sparserollout/sparsify:0.1.0";
  private static final SparseModel SPEC = Fixtures.minilm();
  private static final String REV = Revision.of(SPEC.getSpec());
  private static final String KEY = ArtifactDonor.key(SPEC.getSpec(), IMAGE);
  private static final List<Stage> PLAN = Stage.plan(SPEC.getSpec());

  @Test
  void theKeyFollowsThePipelineSettingsTheirAccessAndTheStageImage() {
    assertThat(KEY).hasSize(32);
    assertThat(ArtifactDonor.key(SPEC.getSpec(), "sparserollout/sparsify:0.2.0")).isNotEqualTo(KEY);
    // Another service account may not read the same files: same revision, another key.
    SparseModel otherAccount =
        Fixtures.minilm(s -> s.with("artifactStore").put("serviceAccountName", "other"));
    assertThat(Revision.of(otherAccount.getSpec())).isEqualTo(REV);
    assertThat(ArtifactDonor.key(otherAccount.getSpec(), IMAGE)).isNotEqualTo(KEY);
  }

  @Test
  void theOldestOtherFinishedModelWithTheSameSettingsLends() {
    SparseModel older = donor("older", "uid-older", "2026-12-01T10:00:00Z", s -> {});
    SparseModel newer = donor("newer", "uid-newer", "2026-12-03T10:00:00Z", s -> {});
    // The model asking is the oldest of all: only others lend.
    SparseModel self = donor("self", "uid-self", "2026-11-01T10:00:00Z", s -> {});

    assertThat(ArtifactDonor.find(self, REV, KEY, PLAN, null, List.of(self, newer, older)))
        .hasValueSatisfying(d -> assertThat(d.getMetadata().getName()).isEqualTo("older"));
  }

  @Test
  void nothingUnfinishedForeignRedirectedOrOfAnotherKeyOrGpuLends() {
    SparseModel self = donor("self", "uid-self", "2026-12-05T10:00:00Z", s -> {});
    self.setStatus(null);
    List<SparseModel> none =
        List.of(
            donor("image", "u1", "2026-12-01T10:00:00Z", s -> s.setArtifactKey("0".repeat(32))),
            donor(
                "half",
                "u2",
                "2026-12-01T10:00:00Z",
                s -> s.getCompletedStages().removeIf(c -> c.stage().equals("evaluate"))),
            donor("nokey", "u3", "2026-12-01T10:00:00Z", s -> s.setArtifactKey(null)),
            // A status pointing its engine anywhere but its own engine stage's folder.
            donor(
                "redirected",
                "u4",
                "2026-12-01T10:00:00Z",
                s ->
                    s.setEngine(
                        new EngineStatus(
                            "onnxruntime",
                            "fp32",
                            null,
                            null,
                            null,
                            1.1,
                            "s3://elsewhere/engine",
                            "e".repeat(64),
                            null))));
    SparseModel elsewhere = donor("away", "u5", "2026-12-01T10:00:00Z", s -> {});
    elsewhere.getMetadata().setNamespace("other");
    SparseModel going = donor("going", "u6", "2026-12-01T10:00:00Z", s -> {});
    going.getMetadata().setDeletionTimestamp("2026-12-05T11:00:00Z");
    SparseModel otherSettings =
        Fixtures.minilm(s -> s.with("artifactStore").put("serviceAccountName", "other"));
    otherSettings.getMetadata().setName("settings");
    otherSettings.getMetadata().setNamespace("ml");
    otherSettings.getMetadata().setUid("u7");
    otherSettings.getMetadata().setCreationTimestamp("2026-12-01T10:00:00Z");
    otherSettings.setStatus(finished(otherSettings, null));

    List<SparseModel> all = new ArrayList<>(none);
    all.add(elsewhere);
    all.add(going);
    all.add(otherSettings);
    assertThat(ArtifactDonor.find(self, REV, KEY, PLAN, null, all)).isEmpty();
    // A TensorRT engine built for another product than the one it would be built for now.
    SparseModel a100 = donor("a100", "u8", "2026-12-01T10:00:00Z", s -> {});
    assertThat(ArtifactDonor.find(self, REV, KEY, PLAN, "NVIDIA-H100", List.of(a100))).isEmpty();
  }

  private static SparseModel donor(
      String name, String uid, String created, Consumer<SparseModelStatus> edit) {
    SparseModel model = Fixtures.minilm();
    model.getMetadata().setName(name);
    model.getMetadata().setNamespace("ml");
    model.getMetadata().setUid(uid);
    model.getMetadata().setCreationTimestamp(created);
    SparseModelStatus status = finished(model, "NVIDIA-A100");
    edit.accept(status);
    model.setStatus(status);
    return model;
  }

  private static SparseModelStatus finished(SparseModel model, String gpuProduct) {
    SparseModelStatus status = new SparseModelStatus();
    status.setRevision(REV);
    status.setArtifactKey(ArtifactDonor.key(model.getSpec(), IMAGE));
    status.setArtifactRun("run-1");
    status.setEngine(
        new EngineStatus(
            "onnxruntime",
            "fp32",
            null,
            gpuProduct,
            null,
            1.1,
            new Storage(model, REV, "run-1").artifactUri(StageContext.ENGINE) + "/sparse-fp32",
            "e".repeat(64),
            "sparse-fp32"));
    status.setGate(
        new GateStatus(null, null, null, null, null, GateStatus.Verdict.PASSED, "passed", null));
    List<StageCompletion> done = new ArrayList<>();
    for (Stage stage : PLAN) {
      done.add(new StageCompletion(stage.jobSuffix(), "job", "uid", "t", "s"));
    }
    status.setCompletedStages(done);
    return status;
  }
}
