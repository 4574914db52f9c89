package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.SparseModel;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Maps pvc:// URIs to paths inside stage containers: claim C is mounted at /mnt/C, so pvc://C/a/b
 * is /mnt/C/a/b. Artifacts of a revision live under the store's prefix, then namespace, resource
 * name and revision, so revisions and resources never overwrite each other.
 */
public final class Storage {
  static final String MOUNT_ROOT = "/mnt/";
  private final String storeClaim;
  private final String revisionDir;

  public Storage(SparseModel model, String revision) {
    String store = strip(model.getSpec().artifactStore().uri());
    this.storeClaim = claim(store);
    String prefix = store.contains("/") ? store.substring(store.indexOf('/') + 1) : "";
    this.revisionDir =
        join(
            prefix,
            model.getMetadata().getNamespace()
                + "/"
                + model.getMetadata().getName()
                + "/"
                + revision);
  }

  /** Every PVC a stage of this model needs, the store first. */
  public static Set<String> claims(SparseModel model) {
    Set<String> claims = new LinkedHashSet<>();
    claims.add(claim(strip(model.getSpec().artifactStore().uri())));
    for (String uri :
        new String[] {
          model.getSpec().source().uri(),
          model.getSpec().source().tokenizerUri(),
          model.getSpec().sparsity().calibration().dataUri(),
          model.getSpec().evaluation().dataUri(),
          model.getSpec().evaluation().labelsUri()
        }) {
      if (uri != null && uri.startsWith("pvc://")) {
        claims.add(claim(strip(uri)));
      }
    }
    return claims;
  }

  /** Container path of a pvc:// URI. */
  public static String path(String uri) {
    return MOUNT_ROOT + strip(uri);
  }

  /** Container path of an artifact of this revision. */
  public String artifact(String name) {
    return MOUNT_ROOT + storeClaim + "/" + join(revisionDir, name);
  }

  /** The same artifact as a pvc:// URI, for status. */
  public String artifactUri(String name) {
    return "pvc://" + storeClaim + "/" + join(revisionDir, name);
  }

  private static String strip(String uri) {
    return uri.substring(uri.indexOf("://") + 3);
  }

  private static String claim(String stripped) {
    int slash = stripped.indexOf('/');
    return slash < 0 ? stripped : stripped.substring(0, slash);
  }

  private static String join(String a, String b) {
    return a.isEmpty() ? b : a.replaceAll("/+$", "") + "/" + b;
  }
}
