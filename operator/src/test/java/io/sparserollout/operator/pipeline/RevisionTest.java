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
                    .put("credentialsSecret", "rotated-keys")
                    .put("serviceAccountName", "store-reader")
                    .put("region", "eu-west-1")
                    .put("allowInsecureHttp", true));
    var moved = Fixtures.minilm(spec -> spec.with("artifactStore").put("uri", "pvc://other/x"));

    assertThat(Revision.of(rekeyed.getSpec())).isEqualTo(base);
    assertThat(Revision.of(moved.getSpec())).isNotEqualTo(base);
  }

  /**
   * The sample's revision, pinned: a change here re-runs every model's pipeline when the operator
   * is upgraded, so it must be deliberate (a new optional field left unset must not change it).
   */
  @Test
  void theSamplesRevisionIsStable() {
    assertThat(Revision.of(Fixtures.minilm().getSpec())).isEqualTo("fe8c8fd46d");
  }
}
