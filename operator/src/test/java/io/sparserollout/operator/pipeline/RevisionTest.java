package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.operator.Fixtures;
import org.junit.jupiter.api.Test;

class RevisionTest {
  @Test
  void howTheStoreIsReachedIsNotANewRevision() {
    String base = Revision.of(Fixtures.minilm().getSpec());
    var rekeyed =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("serviceAccountName", "store-reader")
                    .put("region", "eu-west-1")
                    .put("allowInsecureHttp", true));
    var moved = Fixtures.minilm(spec -> spec.with("artifactStore").put("uri", "pvc://other/x"));

    assertThat(Revision.of(rekeyed.getSpec())).isEqualTo(base);
    assertThat(Revision.of(moved.getSpec())).isNotEqualTo(base);
  }

  /**
   * The sample's revision, pinned to what the operator computed before the store's access fields
   * existed: a change here re-runs every model's pipeline when the operator is upgraded, so it must
   * be deliberate.
   */
  @Test
  void theSamplesRevisionIsStable() {
    assertThat(Revision.of(Fixtures.minilm().getSpec())).isEqualTo("057e7cfef4");
    assertThat(
            Revision.of(
                Fixtures.minilm(spec -> spec.with("selection").put("requireSparse", true))
                    .getSpec()))
        .isNotEqualTo("057e7cfef4");
    var s3 =
        Fixtures.minilm(
            spec ->
                spec.with("artifactStore")
                    .put("uri", "s3://b/p")
                    .put("credentialsSecret", "k")
                    .put("endpoint", "https://minio:9000"));
    assertThat(Revision.of(s3.getSpec())).isEqualTo("8c551b070c");
  }

  /** fineTuning.workers came later: one worker, written or not, keeps the revision it had. */
  @Test
  void oneFineTuningWorkerKeepsTheRevisionAndMoreStartANewOne() {
    var one = Fixtures.minilm(spec -> spec.with("fineTuning").put("workers", 1));
    var two = Fixtures.minilm(spec -> spec.with("fineTuning").put("workers", 2));

    assertThat(Revision.of(one.getSpec())).isEqualTo("057e7cfef4");
    assertThat(Revision.pipelineJson(one.getSpec()))
        .isEqualTo(Revision.pipelineJson(Fixtures.minilm().getSpec()));
    assertThat(Revision.of(two.getSpec())).isNotEqualTo("057e7cfef4");
  }

  /** The task came later: an embedding, written or not, keeps the revision; a classifier not. */
  @Test
  void theEmbeddingTaskKeepsTheRevisionAndAClassifierStartsANewOne() {
    var embedding = Fixtures.minilm(spec -> spec.with("source").put("task", "embedding"));
    var classifier = Fixtures.minilm(spec -> spec.with("source").put("task", "classification"));

    assertThat(Revision.of(embedding.getSpec())).isEqualTo("057e7cfef4");
    assertThat(Revision.pipelineJson(embedding.getSpec()))
        .isEqualTo(Revision.pipelineJson(Fixtures.minilm().getSpec()));
    assertThat(Revision.of(classifier.getSpec())).isNotEqualTo("057e7cfef4");
  }

  /** Data sources came later: files, written or not, keep the revision; captured samples not. */
  @Test
  void filesAsTheSourceKeepTheRevisionAndCapturedSamplesStartANewOne() {
    var files =
        Fixtures.minilm(
            spec -> {
              spec.with("sparsity").with("calibration").put("source", "file");
              spec.with("evaluation").put("source", "file");
            });
    var captured =
        Fixtures.minilm(
            spec -> spec.with("sparsity").with("calibration").put("source", "captured"));

    assertThat(Revision.of(files.getSpec())).isEqualTo("057e7cfef4");
    assertThat(Revision.of(captured.getSpec())).isNotEqualTo("057e7cfef4");
    assertThat(Revision.readsCaptured(captured.getSpec())).isTrue();
    assertThat(Revision.readsCaptured(files.getSpec())).isFalse();
  }

  /**
   * A spec that reads captured samples never runs again under an earlier revision's name: a revert
   * to the stable's would rebuild it on newer samples, swapped into its pods with no gate.
   */
  @Test
  void aSpecReadingCapturedSamplesNeverTakesAnEarlierRevisionsName() {
    var captured =
        Fixtures.minilm(
                spec -> {
                  spec.with("rollout").with("capture").put("enabled", true);
                  spec.with("sparsity").with("calibration").put("source", "mixed");
                })
            .getSpec();
    var edited =
        Fixtures.minilm(
                spec -> {
                  spec.with("rollout").with("capture").put("enabled", true);
                  spec.with("sparsity")
                      .with("calibration")
                      .put("source", "mixed")
                      .put("samples", 64);
                })
            .getSpec();

    // The model's first revision, and the same spec again: the spec's own name, as before epochs.
    Revision.Next first = Revision.next(captured, null, null);
    assertThat(first).isEqualTo(new Revision.Next(Revision.of(captured), 0));
    assertThat(Revision.next(captured, first.revision(), null)).isEqualTo(first);

    Revision.Next changed = Revision.next(edited, first.revision(), first.epoch());
    assertThat(changed.epoch()).isEqualTo(1);
    Revision.Next reverted = Revision.next(captured, changed.revision(), changed.epoch());
    assertThat(reverted.epoch()).isEqualTo(2);
    assertThat(reverted.revision()).isNotEqualTo(first.revision()).isNotEqualTo(changed.revision());
    assertThat(Revision.next(captured, reverted.revision(), reverted.epoch())).isEqualTo(reverted);

    // Files only: the settings' own name, whatever the epoch.
    var files = Fixtures.minilm().getSpec();
    assertThat(Revision.next(files, reverted.revision(), 2))
        .isEqualTo(new Revision.Next(Revision.of(files), 2));
  }
}
