package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.operator.k8s.OwnedResources;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The serving pods whose numbers count: those a ReplicaSet of the served model's own Deployment
 * controls (by UID). Labels anyone who can create a pod can copy; a pod that merely looks like a
 * canary must not judge it.
 */
final class ServingPods {
  private ServingPods() {}

  static List<Pod> ofDeployment(KubernetesClient client, List<Pod> pods, String deploymentUid) {
    Map<String, Boolean> replicaSets = new HashMap<>();
    return pods.stream()
        .filter(
            pod ->
                controller(pod)
                    .filter(o -> "ReplicaSet".equals(o.getKind()))
                    .map(
                        o ->
                            replicaSets.computeIfAbsent(
                                o.getUid(), uid -> controlledBy(client, pod, o, deploymentUid)))
                    .orElse(false))
        .toList();
  }

  private static boolean controlledBy(
      KubernetesClient client, Pod pod, OwnerReference owner, String deploymentUid) {
    ReplicaSet replicaSet =
        client
            .apps()
            .replicaSets()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(owner.getName())
            .get();
    return replicaSet != null
        && owner.getUid().equals(replicaSet.getMetadata().getUid())
        && OwnedResources.controlledBy(replicaSet, deploymentUid);
  }

  private static Optional<OwnerReference> controller(Pod pod) {
    List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
    return owners == null
        ? Optional.empty()
        : owners.stream().filter(o -> Boolean.TRUE.equals(o.getController())).findFirst();
  }
}
