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
import org.junit.jupiter.api.Test;

class ArtifactDonorTest {
  private static final String REV = "abcdef0123";
  private static final String IMAGE = "sparserollout/sparsify:0.1.0";
  private static final String KEY = ArtifactDonor.key(REV, IMAGE);
  private static final List<Stage> PLAN = List.of(Stage.PRUNE, Stage.BUILD_ENGINE, Stage.EVALUATE);

  @Test
  void theKeyFollowsTheRevisionAndTheStageImage() {
    assertThat(ArtifactDonor.key(REV, IMAGE)).isEqualTo(KEY).hasSize(16);
    assertThat(ArtifactDonor.key(REV, "sparserollout/sparsify:0.2.0")).isNotEqualTo(KEY);
    assertThat(ArtifactDonor.key("0123abcdef", IMAGE)).isNotEqualTo(KEY);
  }

  @Test
  void theOldestOtherModelThatFinishedTheSameRevisionUnderTheSameKeyLends() {
    SparseModel self = model("self", "uid-self", "2026-12-05T10:00:00Z", finished(REV, KEY));
    SparseModel older = model("older", "uid-older", "2026-12-01T10:00:00Z", finished(REV, KEY));
    SparseModel newer = model("newer", "uid-newer", "2026-12-03T10:00:00Z", finished(REV, KEY));

    assertThat(ArtifactDonor.find(self, REV, KEY, PLAN, List.of(self, newer, older)))
        .hasValueSatisfying(d -> assertThat(d.getMetadata().getName()).isEqualTo("older"));
  }

  @Test
  void nothingUnfinishedForeignOrOfAnotherKeyLends() {
    SparseModel self = model("self", "uid-self", "2026-12-05T10:00:00Z", null);
    SparseModel otherImage =
        model("image", "uid-1", "2026-12-01T10:00:00Z", finished(REV, ArtifactDonor.key(REV, "x")));
    SparseModel unfinished = model("half", "uid-2", "2026-12-01T10:00:00Z", finished(REV, KEY));
    unfinished.getStatus().getCompletedStages().removeIf(c -> c.stage().equals("evaluate"));
    SparseModel elsewhere = model("away", "uid-3", "2026-12-01T10:00:00Z", finished(REV, KEY));
    elsewhere.getMetadata().setNamespace("other");
    SparseModel going = model("going", "uid-4", "2026-12-01T10:00:00Z", finished(REV, KEY));
    going.getMetadata().setDeletionTimestamp("2026-12-05T11:00:00Z");
    SparseModel noKey = model("old", "uid-5", "2026-12-01T10:00:00Z", finished(REV, null));

    assertThat(
            ArtifactDonor.find(
                self, REV, KEY, PLAN, List.of(otherImage, unfinished, elsewhere, going, noKey)))
        .isEmpty();
  }

  private static SparseModel model(String name, String uid, String created, SparseModelStatus s) {
    SparseModel model = Fixtures.minilm();
    model.getMetadata().setName(name);
    model.getMetadata().setNamespace("ml");
    model.getMetadata().setUid(uid);
    model.getMetadata().setCreationTimestamp(created);
    model.setStatus(s);
    return model;
  }

  private static SparseModelStatus finished(String revision, String key) {
    SparseModelStatus status = new SparseModelStatus();
    status.setRevision(revision);
    status.setArtifactKey(key);
    status.setEngine(
        new EngineStatus(
            "onnxruntime",
            "fp32",
            null,
            null,
            null,
            1.1,
            "pvc://store/ml/x/" + revision + "/engine",
            "e".repeat(64)));
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
