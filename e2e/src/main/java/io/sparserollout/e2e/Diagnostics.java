package io.sparserollout.e2e;

import io.sparserollout.testing.Kubectl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a failed run leaves behind for whoever looks next: every object and event in the cluster,
 * the SparseModels described, beside the control-plane logs and every pod's log (the operator's
 * among them) that the harness writes under its work directory anyway.
 */
public final class Diagnostics {
  private Diagnostics() {}

  /** Writes the cluster's state under {@code dir}; returns the directory. */
  public static Path dump(LocalCluster cluster, Path dir) {
    Kubectl kubectl = cluster.kubectl();
    try {
      Files.createDirectories(dir);
      write(dir.resolve("objects.txt"), kubectl.run("get", "all,pvc,events", "-A", "-o", "wide"));
      write(
          dir.resolve("sparsemodels.yaml"), kubectl.run("get", "sparsemodels", "-A", "-o", "yaml"));
      write(
          dir.resolve("sparsemodels-described.txt"), kubectl.run("describe", "sparsemodels", "-A"));
      write(dir.resolve("pods.yaml"), kubectl.run("get", "pods", "-A", "-o", "yaml"));
    } catch (IOException e) {
      System.err.println("could not write diagnostics to " + dir + ": " + e);
    }
    return dir;
  }

  private static void write(Path file, Kubectl.Result result) throws IOException {
    Files.writeString(file, result.output());
  }
}
