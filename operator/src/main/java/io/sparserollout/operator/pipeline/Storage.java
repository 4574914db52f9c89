package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where stage containers find their inputs and put their outputs. A pvc:// URI becomes a path on
 * the claim, mounted at /mnt/&lt;claim&gt;; s3:// and https:// URIs are handed to sparsify as they
 * are (it fetches and uploads them). Artifacts of a revision live under the store's prefix, then
 * namespace, resource name and revision, so revisions and resources never overwrite each other.
 */
public final class Storage {
  static final String MOUNT_ROOT = "/mnt/";
  // Not a revision: revisions are ten hex digits.
  public static final String CAPTURE_FOLDER = "captured";
  private final String storeBase;

  public Storage(SparseModel model, String revision) {
    this(model, revision, null);
  }

  /**
   * @param run the pipeline run's folder under the revision (status.artifactRun), so a revision run
   *     again never overwrites files another model still serves; null: the revision's own folder,
   *     as before runs had folders
   */
  public Storage(SparseModel model, String revision, String run) {
    this.storeBase =
        model.getSpec().artifactStore().uri().replaceAll("/+$", "")
            + "/"
            + model.getMetadata().getNamespace()
            + "/"
            + model.getMetadata().getName()
            + "/"
            + revision
            + (run == null ? "" : "/" + run);
  }

  /** Every PVC a stage of this model needs, the store first. */
  public static Set<String> claims(SparseModel model) {
    Set<String> claims = new LinkedHashSet<>();
    for (String uri : uris(model.getSpec())) {
      if (uri != null && uri.startsWith("pvc://")) {
        claims.add(claim(uri));
      }
    }
    return claims;
  }

  /** The claim the artifact store writes to, or null when the store is not a PVC. */
  public static String storeClaim(SparseModel model) {
    String uri = model.getSpec().artifactStore().uri();
    return uri.startsWith("pvc://") ? claim(uri) : null;
  }

  /** Whether any location of the model is in S3 (the Job then needs credentials). */
  public static boolean usesS3(SparseModel model) {
    for (String uri : uris(model.getSpec())) {
      if (uri != null && uri.startsWith("s3://")) {
        return true;
      }
    }
    return false;
  }

  /** What sparsify is given for a URI: a mounted path for pvc://, the URI itself otherwise. */
  public static String path(String uri) {
    return uri.startsWith("pvc://") ? MOUNT_ROOT + uri.substring("pvc://".length()) : uri;
  }

  /** What sparsify is given for an artifact of this revision. */
  public String artifact(String name) {
    return path(artifactUri(name));
  }

  /** The artifact's URI, for status. */
  public String artifactUri(String name) {
    return storeBase + "/" + name;
  }

  /**
   * Where serving pods put captured inputs: the model's own folder beside its revisions, so every
   * revision's pods add to the same samples and a new revision can read them.
   */
  public static String captureUri(SparseModel model) {
    return model.getSpec().artifactStore().uri().replaceAll("/+$", "")
        + "/"
        + model.getMetadata().getNamespace()
        + "/"
        + model.getMetadata().getName()
        + "/"
        + CAPTURE_FOLDER;
  }

  /** The captured inputs' folder inside the store's claim, for a subPath mount. */
  public static String captureSubPath(SparseModel model) {
    String rest = captureUri(model).substring("pvc://".length());
    return rest.substring(rest.indexOf('/') + 1).replaceAll("/+", "/");
  }

  /** Every location the spec names (null where a field is unset). */
  static List<String> uris(SparseModelSpec spec) {
    return new java.util.ArrayList<>(locations(spec).values());
  }

  /** Every location the spec names, by field (null where a field is unset). */
  static java.util.Map<String, String> locations(SparseModelSpec spec) {
    java.util.Map<String, String> locations = new java.util.LinkedHashMap<>();
    locations.put("spec.artifactStore.uri", spec.artifactStore().uri());
    locations.put("spec.source.uri", spec.source().uri());
    locations.put("spec.source.tokenizerUri", spec.source().tokenizerUri());
    locations.put("spec.sparsity.calibration.dataUri", spec.sparsity().calibration().dataUri());
    locations.put("spec.evaluation.dataUri", spec.evaluation().dataUri());
    locations.put("spec.evaluation.labelsUri", spec.evaluation().labelsUri());
    if (spec.evaluation().hasSets()) {
      for (int i = 0; i < spec.evaluation().sets().size(); i++) {
        var set = spec.evaluation().sets().get(i);
        locations.put("spec.evaluation.sets[" + i + "].dataUri", set.dataUri());
        locations.put("spec.evaluation.sets[" + i + "].labelsUri", set.labelsUri());
      }
    }
    locations.put("spec.fineTuning.labelsUri", spec.fineTuning().labelsUri());
    return locations;
  }

  private static String claim(String uri) {
    String rest = uri.substring("pvc://".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
