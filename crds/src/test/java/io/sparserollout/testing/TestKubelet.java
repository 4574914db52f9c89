package io.sparserollout.testing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Plays the kubelet for pods that the real controllers create: ends a Job pod's container with an
 * exit code and a termination message, or reports a pod Running and Ready, as a real kubelet
 * reports them ({@link PodStatuses}).
 */
public final class TestKubelet {
  private final KubernetesClient client;

  public TestKubelet(KubernetesClient client) {
    this.client = client;
  }

  /** Waits for a pending pod of the Job and ends it successfully with {@code message}. */
  public Pod succeed(String namespace, String job, String message) {
    return finish(namespace, job, 0, message);
  }

  /** Waits for a pending pod of the Job and fails it with {@code message}. */
  public Pod fail(String namespace, String job, String message) {
    return finish(namespace, job, 2, message);
  }

  /**
   * Waits for a pending pod of the Job and reports its container waiting with {@code reason}, as a
   * kubelet does when it cannot pull the image or find a Secret the container needs.
   */
  public Pod cannotStart(String namespace, String job, String reason, String message) {
    Pod pod = awaitPendingPod(namespace, job, Duration.ofSeconds(60));
    Container container = pod.getSpec().getContainers().get(0);
    pod.getStatus().setPhase("Pending");
    pod.getStatus().setConditions(PodStatuses.conditions(false, PodStatuses.now()));
    pod.getStatus().setContainerStatuses(List.of(PodStatuses.waiting(container, reason, message)));
    return client.pods().inNamespace(namespace).resource(pod).updateStatus();
  }

  private Pod finish(String namespace, String job, int exitCode, String message) {
    Pod pod = awaitPendingPod(namespace, job, Duration.ofSeconds(60));
    String now = PodStatuses.now();
    Container container = pod.getSpec().getContainers().get(0);
    pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
    pod.getStatus()
        .setContainerStatuses(List.of(PodStatuses.terminated(container, exitCode, message, now)));
    return client.pods().inNamespace(namespace).resource(pod).updateStatus();
  }

  /** Reports the pod Running and Ready at {@code ip}, its first container started. */
  public Pod running(Pod pod, String ip) {
    String now = PodStatuses.now();
    Container container = pod.getSpec().getContainers().get(0);
    pod.getStatus().setPhase("Running");
    pod.getStatus().setPodIP(ip);
    pod.getStatus().setHostIP("127.0.0.1");
    pod.getStatus().setStartTime(now);
    pod.getStatus().setConditions(PodStatuses.conditions(true, now));
    pod.getStatus().setContainerStatuses(List.of(PodStatuses.running(container, true, now)));
    return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).updateStatus();
  }

  private Pod awaitPendingPod(String namespace, String job, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      for (Pod pod :
          client.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems()) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (pod.getMetadata().getDeletionTimestamp() == null
            && (phase == null || "Pending".equals(phase))) {
          return pod;
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError(
        "no pending pod of Job " + namespace + "/" + job + " within " + timeout);
  }
}
