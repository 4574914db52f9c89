package io.sparserollout.testing;

import java.nio.file.Path;
import java.util.List;

/**
 * A real kube-controller-manager next to a {@link RealApiServer}: Jobs make pods, Deployments make
 * ReplicaSets and pods, owner references are garbage-collected, quotas are counted (admission
 * enforces them), HorizontalPodAutoscalers scale their targets (there is no metrics server, so only
 * to their bounds). There is no kubelet; tests play it.
 */
public final class ControllerManager extends ControlPlaneProcess {
  private ControllerManager(RealApiServer apiServer, Path logDir) {
    super(
        "kube-controller-manager",
        List.of(
            "--kubeconfig=" + apiServer.kubeconfig(),
            "--controllers=job,replicaset,deployment,garbagecollector,resourcequota,"
                + "horizontalpodautoscaling",
            // The HPA controller looks every 15 s by default; tests wait for it.
            "--horizontal-pod-autoscaler-sync-period=2s",
            "--leader-elect=false",
            "--port=0",
            "--secure-port=0",
            "--use-service-account-credentials=false",
            "-v=2"),
        logDir);
  }

  public static ControllerManager start(RealApiServer apiServer, Path logDir) {
    return new ControllerManager(apiServer, logDir);
  }
}
