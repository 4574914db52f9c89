package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the operator process remembers between reconciles about writes it need not repeat, so a
 * served model at rest costs no writes: one instance per reconciler, shared by every reconcile.
 */
public final class ServingMemory {
  /**
   * How long a check done for a spec generation stands: a resource deleted or edited by hand comes
   * back within this, although nothing moved the generation.
   */
  static final Duration RECHECK = Duration.ofMinutes(5);

  /** PodDisruptionBudgets applied (namespace/name@uid of the model). */
  final Set<String> budgetsApplied = ConcurrentHashMap.newKeySet();

  /** Models (by uid) checked for a GRPCRoute to remove. */
  final Checks grpcRoutes = new Checks();

  /** Models (by uid) whose HorizontalPodAutoscaler was applied or removed. */
  final Checks autoscalers = new Checks();

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

  /** One entry per model (its uid): the generation last checked and when. */
  static final class Checks {
    private record Done(long generation, long atNanos) {}

    private final Map<String, Done> done = new ConcurrentHashMap<>();

    /** Whether the model's current generation is yet to be checked, or its check is stale. */
    boolean due(HasMetadata model) {
      Done last = done.get(model.getMetadata().getUid());
      return last == null
          || last.generation() != generation(model)
          || System.nanoTime() - last.atNanos() > RECHECK.toNanos();
    }

    void checked(HasMetadata model) {
      done.put(model.getMetadata().getUid(), new Done(generation(model), System.nanoTime()));
    }

    private static long generation(HasMetadata model) {
      Long generation = model.getMetadata().getGeneration();
      return generation == null ? 0 : generation;
    }
  }
}
