package io.sparserollout.testing;

import java.nio.file.Path;
import java.util.List;

/** A real kube-scheduler: binds pods to the registered nodes by resources, labels and taints. */
public final class KubeScheduler extends ControlPlaneProcess {
  private KubeScheduler(RealApiServer apiServer, Path logDir) {
    super(
        "kube-scheduler",
        List.of(
            "--kubeconfig=" + apiServer.kubeconfig(),
            "--leader-elect=false",
            "--port=0",
            "--secure-port=0",
            "-v=2"),
        logDir);
  }

  public static KubeScheduler start(RealApiServer apiServer, Path logDir) {
    return new KubeScheduler(apiServer, logDir);
  }
}
