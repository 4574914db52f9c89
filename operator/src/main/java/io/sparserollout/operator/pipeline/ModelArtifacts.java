package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;

/** status.pruning.artifactUri follows the latest model a stage produced. */
final class ModelArtifacts {
  private ModelArtifacts() {}

  static void replace(SparseModelStatus status, String artifactUri) {
    PruningStatus p = status.getPruning();
    if (p != null) {
      status.setPruning(p.withArtifactUri(artifactUri));
    }
  }
}
