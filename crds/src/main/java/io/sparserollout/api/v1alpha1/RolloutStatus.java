package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;

/** Canary progress. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RolloutStatus(
    @JsonPropertyDescription(
            "Revision serving the rest of the traffic: a pipeline revision, or dense (the source"
                + " model) before the first promotion.")
        String stableRevision,
    @JsonPropertyDescription("Revision under canary, if any.") String canaryRevision,
    @JsonPropertyDescription("Index of the current canary step.") Integer step,
    @JsonPropertyDescription("Percent of traffic on the canary.") Integer canaryWeight,
    @JsonPropertyDescription("When the current step began.") String stepStartedAt,
    @JsonPropertyDescription("When the canary was last measured.") String lastAnalysisAt,
    @JsonPropertyDescription(
            "When the current step's first analysis ran (its pods ready): analysis.inconclusiveLimit"
                + " counts from here.")
        String analysisStartedAt,
    @JsonPropertyDescription("Passed measurements so far at this step.") Integer passed,
    @JsonPropertyDescription("Failed measurements so far at this step.") Integer failures,
    @JsonPropertyDescription("Latest measured shadow agreement with the dense baseline.")
        Double agreement,
    @JsonPropertyDescription("Latest measured fraction of failed requests.") Double errorRate,
    @JsonPropertyDescription("Latest measured p99 request latency in milliseconds.")
        Double p99LatencyMs,
    @JsonPropertyDescription(
            "Confidence interval of the latest measured shadow agreement (analysis.confidence).")
        ConfidenceInterval agreementInterval,
    @JsonPropertyDescription(
            "Wilson confidence interval of the latest measured error rate (analysis.confidence).")
        ConfidenceInterval errorRateInterval,
    @JsonPropertyDescription("Requests the latest measurement counted on the canary.")
        Long requests,
    @JsonPropertyDescription("Shadow comparisons the latest measurement counted.") Long comparisons,
    @JsonPropertyDescription(
            "True when the canary waits for the sparserollout.io/promote (or abort) annotation:"
                + " every step passed with autoPromote false, or a step paused on inconclusive"
                + " analysis (onInconclusive pause).")
        Boolean awaitingPromotion,
    @JsonPropertyDescription("Result of the latest analysis, with the failing metric and value.")
        String message,
    @JsonPropertyDescription(
            "Canary pods the current step asks for; it changes within a step when the replicas"
                + " do (an autoscaler).")
        Integer canaryPods,
    @JsonPropertyDescription(
            "When the canary was last asked for more pods than it had Ready: progressDeadline"
                + " counts from here or the step's start, whichever is later.")
        String canaryPodsSince,
    @JsonPropertyDescription(
            "Percent of traffic the route sends the canary now (trafficMode gateway-api): the"
                + " step's weight once its canary pods are Ready, the previous step's until then.")
        Integer routedWeight,
    @JsonPropertyDescription(
            "What the stable's Deployment serves (model URI, backend, GPU, digest), as the"
                + " Deployment records it: a stable Deployment deleted while another revision is"
                + " under way comes back serving the same file.")
        String stableServes,
    @StatusReplicas
        @JsonPropertyDescription(
            "Pods of the stable and the canary together, as their Deployments ask (the scale"
                + " subresource's replicas).")
        Integer replicas,
    @LabelSelector
        @JsonPropertyDescription(
            "Label selector of the pods that take client traffic (the scale subresource's"
                + " selector, which the HorizontalPodAutoscaler averages over).")
        String selector) {

  /** A builder that starts from {@code current} (null: empty), for the rollout planner. */
  public static Builder from(RolloutStatus current) {
    return new Builder(current);
  }

  /** Named, mutable fields while a plan is worked out; {@link #build} makes the status. */
  public static final class Builder {
    private String stable;
    private String canary;
    private Integer step;
    private Integer weight;
    private String stepStartedAt;
    private String lastAnalysisAt;
    private String analysisStartedAt;
    private Integer passed;
    private Integer failures;
    private Double agreement;
    private Double errorRate;
    private Double p99LatencyMs;
    private ConfidenceInterval agreementInterval;
    private ConfidenceInterval errorRateInterval;
    private Long requests;
    private Long comparisons;
    private Boolean awaitingPromotion;
    private String message;
    private Integer replicas;
    private String selector;
    private Integer canaryPods;
    private String canaryPodsSince;
    private Integer routedWeight;
    private String stableServes;

    private Builder(RolloutStatus s) {
      if (s != null) {
        stable = s.stableRevision();
        canary = s.canaryRevision();
        step = s.step();
        weight = s.canaryWeight();
        stepStartedAt = s.stepStartedAt();
        lastAnalysisAt = s.lastAnalysisAt();
        analysisStartedAt = s.analysisStartedAt();
        passed = s.passed();
        failures = s.failures();
        agreement = s.agreement();
        errorRate = s.errorRate();
        p99LatencyMs = s.p99LatencyMs();
        agreementInterval = s.agreementInterval();
        errorRateInterval = s.errorRateInterval();
        requests = s.requests();
        comparisons = s.comparisons();
        awaitingPromotion = s.awaitingPromotion();
        message = s.message();
        replicas = s.replicas();
        selector = s.selector();
        canaryPods = s.canaryPods();
        canaryPodsSince = s.canaryPodsSince();
        routedWeight = s.routedWeight();
        stableServes = s.stableServes();
      }
    }

    /** Forgets the canary: after promotion, rollback clean-up or a superseding revision. */
    public Builder clearCanary() {
      canary = null;
      step = null;
      weight = null;
      stepStartedAt = null;
      lastAnalysisAt = null;
      analysisStartedAt = null;
      passed = null;
      failures = null;
      awaitingPromotion = null;
      canaryPods = null;
      canaryPodsSince = null;
      routedWeight = null;
      return this;
    }

    public Integer canaryPods() {
      return canaryPods;
    }

    public String canaryPodsSince() {
      return canaryPodsSince;
    }

    /** The canary pods the step asks for, and since when it asks for more than were Ready. */
    public Builder canaryPods(Integer pods, String since) {
      canaryPods = pods;
      canaryPodsSince = since;
      return this;
    }

    /** What the stable's Deployment records it serves. */
    public Builder stableServes(String identity) {
      stableServes = identity;
      return this;
    }

    public Integer routedWeight() {
      return routedWeight;
    }

    public Builder routedWeight(Integer percent) {
      routedWeight = percent;
      return this;
    }

    public String stable() {
      return stable;
    }

    public Builder stable(String revision) {
      stable = revision;
      return this;
    }

    public String canary() {
      return canary;
    }

    public Builder canary(String revision) {
      canary = revision;
      return this;
    }

    public Integer step() {
      return step;
    }

    public Builder step(Integer index) {
      step = index;
      return this;
    }

    public Integer weight() {
      return weight;
    }

    public Builder weight(Integer percent) {
      weight = percent;
      return this;
    }

    public String stepStartedAt() {
      return stepStartedAt;
    }

    public Builder stepStartedAt(String time) {
      stepStartedAt = time;
      return this;
    }

    public String lastAnalysisAt() {
      return lastAnalysisAt;
    }

    public String analysisStartedAt() {
      return analysisStartedAt;
    }

    public Builder analysisStartedAt(String time) {
      analysisStartedAt = time;
      return this;
    }

    public Builder lastAnalysisAt(String time) {
      lastAnalysisAt = time;
      return this;
    }

    public Integer passed() {
      return passed;
    }

    public Builder passed(Integer count) {
      passed = count;
      return this;
    }

    public Integer failures() {
      return failures;
    }

    public Builder failures(Integer count) {
      failures = count;
      return this;
    }

    public Builder measured(Double agreement, Double errorRate, Double p99LatencyMs) {
      this.agreement = agreement;
      this.errorRate = errorRate;
      this.p99LatencyMs = p99LatencyMs;
      return this;
    }

    /** The evidence behind the latest measurement: its intervals and sample counts. */
    public Builder evidence(
        ConfidenceInterval agreement,
        ConfidenceInterval errorRate,
        Long requestCount,
        Long comparisonCount) {
      agreementInterval = agreement;
      errorRateInterval = errorRate;
      requests = requestCount;
      comparisons = comparisonCount;
      return this;
    }

    public Builder awaitingPromotion(Boolean awaiting) {
      awaitingPromotion = awaiting;
      return this;
    }

    public Boolean awaitingPromotion() {
      return awaitingPromotion;
    }

    public String message() {
      return message;
    }

    public Builder message(String text) {
      message = SparseModelStatus.capped(text);
      return this;
    }

    /** What the scale subresource reports: the serving pods asked for, and their selector. */
    public Builder scale(Integer pods, String podSelector) {
      replicas = pods;
      selector = podSelector;
      return this;
    }

    public RolloutStatus build() {
      return new RolloutStatus(
          stable,
          canary,
          step,
          weight,
          stepStartedAt,
          lastAnalysisAt,
          analysisStartedAt,
          passed,
          failures,
          agreement,
          errorRate,
          p99LatencyMs,
          agreementInterval,
          errorRateInterval,
          requests,
          comparisons,
          awaitingPromotion,
          message,
          canaryPods,
          canaryPodsSince,
          routedWeight,
          stableServes,
          replicas,
          selector);
    }
  }
}
