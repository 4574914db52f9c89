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
  private final String storeBase;

  public Storage(SparseModel model, String revision) {
    this.storeBase =
        model.getSpec().artifactStore().uri().replaceAll("/+$", "")
            + "/"
            + model.getMetadata().getNamespace()
            + "/"
            + model.getMetadata().getName()
            + "/"
            + revision;
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

  /** Every location the spec names (null where a field is unset). */
  static List<String> uris(SparseModelSpec spec) {
    return java.util.Arrays.asList(
        spec.artifactStore().uri(),
        spec.source().uri(),
        spec.source().tokenizerUri(),
        spec.sparsity().calibration().dataUri(),
        spec.evaluation().dataUri(),
        spec.evaluation().labelsUri(),
        spec.fineTuning().labelsUri());
  }

  private static String claim(String uri) {
    String rest = uri.substring("pvc://".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
