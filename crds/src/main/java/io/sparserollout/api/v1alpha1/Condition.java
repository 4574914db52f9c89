package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One observation about the resource, in the shape of Kubernetes' metav1.Condition. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Condition(
    @JsonPropertyDescription("Ready, Progressing, Degraded, GpuPlacement or SpecValid.")
        String type,
    @JsonPropertyDescription("True, False or Unknown.") String status,
    @JsonPropertyDescription("Machine-readable CamelCase cause of the latest transition.")
        String reason,
    @JsonPropertyDescription("Human-readable detail, with the numbers involved.") String message,
    @JsonPropertyDescription("When status last changed, RFC 3339.") String lastTransitionTime,
    @JsonPropertyDescription("metadata.generation the condition was computed from.")
        Long observedGeneration) {

  /** The schema types message and reason as strings: null is stored as empty. */
  public Condition {
    message = message == null ? "" : message;
    reason = reason == null ? "" : reason;
  }
}
