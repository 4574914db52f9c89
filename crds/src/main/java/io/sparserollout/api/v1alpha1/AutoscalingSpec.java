package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * A HorizontalPodAutoscaler for the served model: it scales the SparseModel itself (its scale
 * subresource, spec.rollout.replicas), and the rollout splits those replicas between the stable and
 * the canary by the canary's weight, within maxExtraReplicas.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AutoscalingSpec(
    @Default("1") @Min(1) @Max(1000) @JsonPropertyDescription("Fewest replicas.")
        Integer minReplicas,
    @Required @Min(1) @Max(1000) @JsonPropertyDescription("Most replicas.") Integer maxReplicas,
    @Min(1)
        @Max(1000)
        @JsonPropertyDescription(
            "Average CPU use of the serving pods, percent of their CPU request (needs"
                + " spec.rollout.resources.requests.cpu and a metrics server). Unset with"
                + " targetInFlightRequests unset: 70.")
        Integer targetCpuUtilization,
    @Min(1)
        @Max(100000)
        @JsonPropertyDescription(
            "Average requests in flight per serving pod (the pods' inference_in_flight_requests"
                + " gauge, served to the HPA by a custom metrics adapter such as"
                + " prometheus-adapter). With both targets set the HPA takes the larger"
                + " proposal.")
        Integer targetInFlightRequests) {

  /** The CPU target when none is given. */
  public static final int DEFAULT_CPU_UTILIZATION = 70;

  /** minReplicas, 1 where the API server's default was not applied (a spec built in code). */
  public int fewest() {
    return minReplicas == null ? 1 : minReplicas;
  }

  /** The CPU target the HPA gets: the given one, the default when no target is given, or null. */
  public Integer cpuTarget() {
    if (targetCpuUtilization != null) {
      return targetCpuUtilization;
    }
    return targetInFlightRequests == null ? DEFAULT_CPU_UTILIZATION : null;
  }
}
