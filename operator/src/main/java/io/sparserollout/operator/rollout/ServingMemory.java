package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the operator process remembers between reconciles about writes it need not repeat, so a
 * served model at rest costs no writes: one instance per reconciler, shared by every reconcile.
 */
public final class ServingMemory {
  /** PodDisruptionBudgets applied (namespace/name@uid of the model). */
  final Set<String> budgetsApplied = ConcurrentHashMap.newKeySet();

  /** Models (uid@generation) already checked for a GRPCRoute to remove. */
  final Set<String> grpcRoutesChecked = ConcurrentHashMap.newKeySet();

  /** Models (uid@generation) whose HorizontalPodAutoscaler was applied or removed. */
  final Set<String> autoscalersSynced = ConcurrentHashMap.newKeySet();

  private volatile String policyVersion;
  private volatile String autoscalingVersion;

  /** policy/v1 where the server has it (1.21 and later), policy/v1beta1 before. */
  String policyVersion(KubernetesClient client) {
    if (policyVersion == null) {
      policyVersion =
          client.supports("policy/v1", "PodDisruptionBudget") ? "policy/v1" : "policy/v1beta1";
    }
    return policyVersion;
  }

  /** autoscaling/v2 where the server has it (1.23 and later), autoscaling/v2beta2 before. */
  String autoscalingVersion(KubernetesClient client) {
    if (autoscalingVersion == null) {
      autoscalingVersion =
          client.supports("autoscaling/v2", Autoscaler.KIND)
              ? "autoscaling/v2"
              : "autoscaling/v2beta2";
    }
    return autoscalingVersion;
  }
}
