package io.sparserollout.testing;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Plays the kubelet for pods that the real controllers create: ends a pod's only container with an
 * exit code and a termination message, as a real kubelet reports it.
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

  private Pod finish(String namespace, String job, int exitCode, String message) {
    Pod pod = awaitPendingPod(namespace, job, Duration.ofSeconds(60));
    String now = Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
    String container = pod.getSpec().getContainers().get(0).getName();
    pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
    pod.getStatus()
        .setContainerStatuses(
            List.of(
                new ContainerStatusBuilder()
                    .withName(container)
                    .withImage(pod.getSpec().getContainers().get(0).getImage())
                    .withImageID("test-kubelet://" + container)
                    .withReady(false)
                    .withRestartCount(0)
                    .withNewState()
                    .withNewTerminated()
                    .withExitCode(exitCode)
                    .withReason(exitCode == 0 ? "Completed" : "Error")
                    .withMessage(message)
                    .withStartedAt(now)
                    .withFinishedAt(now)
                    .endTerminated()
                    .endState()
                    .build()));
    return client.pods().inNamespace(namespace).resource(pod).updateStatus();
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
