package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Content addressing of a revision's artifacts, as pure functions: the key, and the finished
 * SparseModel of the same namespace whose artifacts a new one may take instead of running its own
 * stages. The revision hashes everything that shapes the artifacts (source, store, recipe,
 * precision, engine and gate settings); the key adds the stage image, which carries the backends'
 * versions (ONNX Runtime, libtorch, TensorRT).
 */
public final class ArtifactDonor {
  private ArtifactDonor() {}

  public static String key(String revision, String stageImage) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((revision + "\n" + stageImage).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The oldest other model of {@code model}'s namespace that finished every stage of {@code plan}
   * for this revision under this key, with an engine and a gate verdict on record; empty when none
   * did. Models being deleted are passed over.
   */
  public static Optional<SparseModel> find(
      SparseModel model,
      String revision,
      String key,
      List<Stage> plan,
      Collection<SparseModel> candidates) {
    return candidates.stream()
        .filter(c -> !c.getMetadata().getUid().equals(model.getMetadata().getUid()))
        .filter(c -> c.getMetadata().getNamespace().equals(model.getMetadata().getNamespace()))
        .filter(c -> c.getMetadata().getDeletionTimestamp() == null)
        .filter(c -> finished(c.getStatus(), revision, key, plan))
        .min(
            Comparator.comparing((SparseModel c) -> c.getMetadata().getCreationTimestamp())
                .thenComparing(c -> c.getMetadata().getName()));
  }

  private static boolean finished(
      SparseModelStatus status, String revision, String key, List<Stage> plan) {
    return status != null
        && revision.equals(status.getRevision())
        && key.equals(status.getArtifactKey())
        && status.getGate() != null
        && status.getEngine() != null
        && status.getEngine().artifactUri() != null
        && status.getCompletedStages() != null
        && plan.stream()
            .allMatch(
                stage ->
                    status.getCompletedStages().stream()
                        .anyMatch(c -> stage.jobSuffix().equals(c.stage())));
  }
}
