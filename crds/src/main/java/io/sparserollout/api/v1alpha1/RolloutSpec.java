package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;

/** Serving and canary rollout of the gated model. */
public record RolloutSpec(
    @Default("1")
        @Min(0)
        @Max(1000)
        @SpecReplicas
        @JsonPropertyDescription(
            "Inference pods once promoted. With autoscaling, the HorizontalPodAutoscaler sets"
                + " it (through the SparseModel's scale subresource).")
        Integer replicas,
    @JsonPropertyDescription(
            "Resources of each inference pod. For tensorrt the operator adds the nvidia.com/gpu"
                + " (or MIG) request.")
        ComputeResources resources,
    @Default("{}") @JsonPropertyDescription("Canary steps.") CanarySpec canary,
    @Default("{}")
        @JsonPropertyDescription("Checks run at every canary step against the dense baseline.")
        AnalysisSpec analysis,
    @Default("replicas")
        @JsonPropertyDescription(
            "gateway-api: HTTPRoute weights (needs the Gateway API CRDs). replicas: traffic split"
                + " in proportion to pod counts behind one Service.")
        TrafficMode trafficMode,
    @Default("true")
        @JsonPropertyDescription(
            "Promote automatically when every step passes; otherwise wait at the last step for"
                + " the sparserollout.io/promote annotation.")
        Boolean autoPromote,
    @Default("10m")
        @Pattern(CanaryStep.DURATION_PATTERN)
        @JsonPropertyDescription(
            "How long a canary step may wait for its pods to become Ready before the canary is"
                + " rolled back.")
        String progressDeadline,
    @JsonPropertyDescription(
            "The Gateway the HTTPRoute attaches to; required for trafficMode gateway-api.")
        GatewayRef gateway,
    @Min(0)
        @Max(1000)
        @JsonPropertyDescription(
            "The rollout's budget of pods (GPUs) beyond replicas: the stable and the canary"
                + " together never have more than replicas + maxExtraReplicas, in every traffic"
                + " mode; the stable shrinks as the canary grows. Unset: no limit (the stable"
                + " keeps its pods until the canary's are Ready). The dense baseline's one pod is"
                + " outside it.")
        Integer maxExtraReplicas,
    @JsonPropertyDescription(
            "Scale replicas with a HorizontalPodAutoscaler the operator owns. Unset: replicas is"
                + " fixed (and no HPA is kept).")
        AutoscalingSpec autoscaling,
    @JsonPropertyDescription(
            "Opt-in capture of the inputs clients send, into the artifact store (pvc:// stores"
                + " only). Unset: nothing is captured.")
        CaptureSpec capture) {

  public enum TrafficMode {
    @JsonProperty("gateway-api")
    GATEWAY_API,
    @JsonProperty("replicas")
    REPLICAS
  }
}
