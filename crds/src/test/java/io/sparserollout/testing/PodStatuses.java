package io.sparserollout.testing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Pod status as a kubelet reports it (conditions, container states, and the write itself), for
 * every stand-in that plays a kubelet: {@link TestKubelet} in the integration tests and the e2e
 * harness's process kubelet for the GPU nodes.
 */
public final class PodStatuses {
  private PodStatuses() {}

  /** Writes a change to the pod's status, retrying conflicts with the controllers' writes. */
  public static void update(KubernetesClient client, Pod pod, UnaryOperator<Pod> change) {
    for (int attempt = 0; ; attempt++) {
      try {
        Pod current =
            client
                .pods()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName())
                .get();
        if (current == null) {
          return;
        }
        if (current.getStatus() == null) {
          current.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
        }
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .resource(change.apply(current))
            .updateStatus();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt > 5) {
          throw e;
        }
      }
    }
  }

  public static List<PodCondition> conditions(boolean ready, String now) {
    List<PodCondition> conditions = new ArrayList<>();
    for (String type : List.of("Initialized", "PodScheduled")) {
      conditions.add(
          new PodConditionBuilder()
              .withType(type)
              .withStatus("True")
              .withLastTransitionTime(now)
              .build());
    }
    for (String type : List.of("ContainersReady", "Ready")) {
      conditions.add(
          new PodConditionBuilder()
              .withType(type)
              .withStatus(ready ? "True" : "False")
              .withLastTransitionTime(now)
              .build());
    }
    return conditions;
  }

  public static ContainerStatus running(Container container, boolean ready, String now) {
    return new ContainerStatusBuilder()
        .withName(container.getName())
        .withImage(container.getImage())
        .withImageID("stand-in://" + container.getImage())
        .withReady(ready)
        .withStarted(true)
        .withRestartCount(0)
        .withNewState()
        .withNewRunning()
        .withStartedAt(now)
        .endRunning()
        .endState()
        .build();
  }

  /** A container the kubelet cannot start: waiting with a reason such as ImagePullBackOff. */
  public static ContainerStatus waiting(Container container, String reason, String message) {
    return new ContainerStatusBuilder()
        .withName(container.getName())
        .withImage(container.getImage())
        .withImageID("")
        .withReady(false)
        .withStarted(false)
        .withRestartCount(0)
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .withMessage(message)
        .endWaiting()
        .endState()
        .build();
  }

  public static ContainerStatus terminated(
      Container container, int exit, String message, String now) {
    return new ContainerStatusBuilder()
        .withName(container.getName())
        .withImage(container.getImage())
        .withImageID("stand-in://" + container.getImage())
        .withReady(false)
        .withRestartCount(0)
        .withNewState()
        .withNewTerminated()
        .withExitCode(exit)
        .withReason(exit == 0 ? "Completed" : "Error")
        .withMessage(message == null || message.isEmpty() ? null : message)
        .withFinishedAt(now)
        .endTerminated()
        .endState()
        .build();
  }

  public static String now() {
    return Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
  }
}
