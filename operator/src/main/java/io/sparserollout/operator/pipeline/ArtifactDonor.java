package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
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
 * stages. The key hashes everything that shapes the artifacts or how they are read (source, store
 * and its access, recipe, precision, engine and gate settings) and the stage image, which carries
 * the backends' versions (ONNX Runtime, libtorch, TensorRT).
 */
public final class ArtifactDonor {
  private ArtifactDonor() {}

  /**
   * A full-length hash (128 bits) of the spec's pipeline settings, access fields included (another
   * service account or region may not read the same files), and the stage image.
   */
  public static String key(SparseModelSpec spec, String stageImage) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  (Revision.pipelineJson(spec) + "\n" + stageImage)
                      .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The oldest other model of {@code model}'s namespace whose spec has the same pipeline settings
   * and which finished every stage of {@code plan} for this revision under this key, with an engine
   * and a gate verdict on record, its engine where its own engine stage writes; empty when none
   * did. Models being deleted are passed over.
   *
   * @param gpuProduct the GPU product a TensorRT engine would be built for now; null on CPU
   */
  public static Optional<SparseModel> find(
      SparseModel model,
      String revision,
      String key,
      List<Stage> plan,
      String gpuProduct,
      Collection<SparseModel> candidates) {
    if (Revision.readsCaptured(model.getSpec())) {
      return Optional.empty(); // calibrated on its own pods' inputs: no other model's fit
    }
    String settings = Revision.pipelineJson(model.getSpec());
    return candidates.stream()
        .filter(c -> !c.getMetadata().getUid().equals(model.getMetadata().getUid()))
        .filter(c -> c.getMetadata().getNamespace().equals(model.getMetadata().getNamespace()))
        .filter(c -> c.getMetadata().getDeletionTimestamp() == null)
        .filter(c -> c.getSpec() != null && c.getSpec().artifactStore() != null)
        .filter(c -> settings.equals(Revision.pipelineJson(c.getSpec())))
        .filter(c -> finished(c.getStatus(), revision, key, plan))
        .filter(c -> ownEngine(c, revision))
        .filter(
            c -> gpuProduct == null || gpuProduct.equals(c.getStatus().getEngine().gpuProduct()))
        .min(
            Comparator.comparing((SparseModel c) -> c.getMetadata().getCreationTimestamp())
                .thenComparing(c -> c.getMetadata().getName()));
  }

  /**
   * The engine (or the served variant's, in a folder below it) is where the model's own engine
   * stage writes: a status never points elsewhere.
   */
  private static boolean ownEngine(SparseModel donor, String revision) {
    String expected =
        new Storage(donor, revision, donor.getStatus().getArtifactRun())
            .artifactUri(StageContext.ENGINE);
    String served = donor.getStatus().getEngine().artifactUri();
    return served.equals(expected) || served.startsWith(expected + "/");
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
