package io.sparserollout.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the Kubernetes control-plane binaries (envtest layout) for tests: KUBEBUILDER_ASSETS when
 * set, otherwise the directory scripts/k8s-binaries.sh builds and caches, running the script when
 * the cache is empty (slow once, then instant).
 */
public final class ControlPlaneBinaries {
  public static final String VERSION = "1.20.2";

  private static Path resolved;

  private ControlPlaneBinaries() {}

  public static synchronized Path directory() {
    if (resolved == null) {
      resolved = resolve();
    }
    return resolved;
  }

  private static Path resolve() {
    String assets = System.getenv("KUBEBUILDER_ASSETS");
    if (assets != null && !assets.isBlank()) {
      return requireBinaries(Path.of(assets), "KUBEBUILDER_ASSETS");
    }
    Path script = projectRoot().resolve("scripts/k8s-binaries.sh");
    try {
      Process process =
          new ProcessBuilder(script.toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        throw new IllegalStateException(script + " failed; see its output above");
      }
      return requireBinaries(Path.of(out.strip()), script.toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + script, e);
    }
  }

  private static Path requireBinaries(Path dir, String origin) {
    for (String binary : new String[] {"etcd", "kube-apiserver", "kubectl"}) {
      if (!Files.isExecutable(dir.resolve(binary))) {
        throw new IllegalStateException(
            origin + " gave " + dir + ", which has no executable " + binary);
      }
    }
    return dir;
  }

  /** The checkout root: the nearest directory upwards that holds scripts/k8s-binaries.sh. */
  public static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/k8s-binaries.sh"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "no scripts/k8s-binaries.sh above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
