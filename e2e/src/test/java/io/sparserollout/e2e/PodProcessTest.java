package io.sparserollout.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the process kubelet maps paths inside a container to this machine. */
class PodProcessTest {
  static final Path POD = Path.of("/tmp/checkout/e2e/target/pods/ns_pod");

  static Map<String, Path> mounts() {
    Map<String, Path> mounts = new LinkedHashMap<>();
    // The checkout itself under /tmp, as CI's clean clone is.
    mounts.put("/deployments", Path.of("/tmp/checkout/operator/target/quarkus-app"));
    mounts.put("/tmp", POD.resolve("volumes/tmp"));
    mounts.put("/mnt/models", Path.of("/tmp/checkout/e2e/target/pv/models"));
    return mounts;
  }

  static String rewrite(String value) {
    return PodProcess.rewrite(value, mounts(), "/dev/termination-log", POD.resolve("log"));
  }

  @Test
  void pathsUnderAMountBecomeItsLocalDirectoryOnce() {
    assertThat(rewrite("/deployments/quarkus-run.jar"))
        .isEqualTo("/tmp/checkout/operator/target/quarkus-app/quarkus-run.jar");
    assertThat(rewrite("/mnt/models/sparserollout/ml/minilm/abc/pruned.onnx"))
        .isEqualTo("/tmp/checkout/e2e/target/pv/models/sparserollout/ml/minilm/abc/pruned.onnx");
    assertThat(rewrite("/tmp")).isEqualTo(POD.resolve("volumes/tmp").toString());
    assertThat(rewrite("/dev/termination-log")).isEqualTo(POD.resolve("log").toString());
    assertThat(rewrite("--data=/mnt/models/data/x.txt"))
        .isEqualTo("--data=/tmp/checkout/e2e/target/pv/models/data/x.txt");
  }

  @Test
  void onlyWholePathComponentsMatch() {
    assertThat(rewrite("/tmpfiles/x")).isEqualTo("/tmpfiles/x");
    assertThat(rewrite("/var/tmp/x")).isEqualTo("/var/tmp/x");
    assertThat(rewrite("http://minilm-baseline.ml.svc:8080/v2"))
        .isEqualTo("http://minilm-baseline.ml.svc:8080/v2");
  }
}
