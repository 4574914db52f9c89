package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.api.v1alpha1.AnalysisSpec;
import io.sparserollout.operator.Fixtures;
import org.junit.jupiter.api.Test;

class AnalysisTest {
  /** As the inference pod's Micrometer registry writes it. */
  static final String POD_METRICS =
      """
      # HELP inference_requests_total
      # TYPE inference_requests_total counter
      inference_requests_total{model="minilm",outcome="success"} 998.0
      inference_requests_total{model="minilm",outcome="error"} 2.0
      # TYPE inference_request_duration_seconds histogram
      inference_request_duration_seconds_bucket{model="minilm",le="0.005"} 500.0
      inference_request_duration_seconds_bucket{model="minilm",le="0.01"} 980.0
      inference_request_duration_seconds_bucket{model="minilm",le="0.02"} 1000.0
      inference_request_duration_seconds_bucket{model="minilm",le="+Inf"} 1000.0
      inference_request_duration_seconds_count{model="minilm"} 1000.0
      shadow_agreement_count{model="minilm"} 100.0
      shadow_agreement_sum{model="minilm"} 97.5
      shadow_agreement{model="minilm",quantile="0.5"} 0.98
      # TYPE shadow_disagreement_squares_total counter
      shadow_disagreement_squares_total{model="minilm"} 0.1025
      """;

  static AnalysisSpec spec(Double maxP99) {
    return Fixtures.minilm(
            s -> {
              var a = s.with("rollout").with("analysis");
              if (maxP99 != null) {
                a.put("maxP99LatencyMs", maxP99);
              }
            })
        .getSpec()
        .rollout()
        .analysis();
  }

  @Test
  void readsThePodsCountersFromItsExposition() throws Exception {
    Measurement m = PrometheusText.parse(POD_METRICS);
    assertThat(m.requests()).isEqualTo(1000);
    assertThat(m.errorRate()).isEqualTo(0.002);
    assertThat(m.agreement()).isEqualTo(0.975);
    assertThat(m.disagreementSquares()).isEqualTo(0.1025);
    // 990th of 1000 lies halfway through the (0.01, 0.02] bucket, as histogram_quantile says.
    assertThat(m.p99Ms()).isCloseTo(15.0, within(1e-9));
  }

  @Test
  void sumsPods() throws Exception {
    Measurement two = PrometheusText.parse(POD_METRICS).plus(PrometheusText.parse(POD_METRICS));
    assertThat(two.requests()).isEqualTo(2000);
    assertThat(two.latencyBuckets().get(Double.POSITIVE_INFINITY)).isEqualTo(2000);
    assertThat(two.agreement()).isEqualTo(0.975);
  }

  @Test
  void passesWithinEveryThreshold() throws Exception {
    AnalysisVerdict v = AnalysisVerdict.judge(PrometheusText.parse(POD_METRICS), spec(20.0));
    assertThat(v.outcome()).isEqualTo(AnalysisVerdict.Outcome.PASSED);
    // Standard deviation 0.02 over 100 comparisons: 0.975 ± 1.96 x 0.002.
    assertThat(v.message()).contains("agreement 0.9750 [0.9711, 0.9789]");
    assertThat(v.errorRate().high()).isCloseTo(0.0073, within(1e-4));
  }

  @Test
  void failsNamingTheMetricThatBrokeItsThreshold() throws Exception {
    assertThat(AnalysisVerdict.judge(PrometheusText.parse(POD_METRICS), spec(10.0)).message())
        .isEqualTo("p99 latency 15.0 ms > maxP99LatencyMs 10.0");
    String lowAgreement = POD_METRICS.replace("97.5", "60.0");
    AnalysisVerdict v = AnalysisVerdict.judge(PrometheusText.parse(lowAgreement), spec(null));
    assertThat(v.outcome()).isEqualTo(AnalysisVerdict.Outcome.FAILED);
    assertThat(v.message())
        .startsWith("shadow agreement 0.6000 [")
        .endsWith("< minAgreement 0.9500");
    String errors = POD_METRICS.replace("} 2.0", "} 100.0");
    assertThat(AnalysisVerdict.judge(PrometheusText.parse(errors), spec(null)).message())
        .startsWith("error rate 0.0911 [")
        .endsWith("> maxErrorRate 0.0100");
  }

  @Test
  void onlyTheServersFailuresCountAgainstTheCanary() throws Exception {
    // A client flooding the canary with malformed requests (400), unknown models (404) or more
    // load than it takes (429) must not roll it back.
    String clientFailures =
        POD_METRICS.replace(
            "inference_requests_total{model=\"minilm\",outcome=\"error\"} 2.0",
            "inference_requests_total{model=\"minilm\",outcome=\"client_error\"} 500.0\n"
                + "inference_requests_total{model=\"minilm\",outcome=\"overloaded\"} 300.0\n"
                + "inference_requests_total{model=\"minilm\",outcome=\"server_error\"} 1.0");
    Measurement m = PrometheusText.parse(clientFailures);
    assertThat(m.requests()).isEqualTo(1799);
    assertThat(m.errorRate()).isCloseTo(1.0 / 1799, within(1e-12));
    assertThat(AnalysisVerdict.judge(m, spec(20.0)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.PASSED);
  }

  /** Requests with no failure, and comparisons of the given mean and standard deviation. */
  private static Measurement evidence(double requests, double comparisons, double mean, double sd) {
    java.util.TreeMap<Double, Double> buckets =
        new java.util.TreeMap<>(
            java.util.Map.of(0.01, requests, Double.POSITIVE_INFINITY, requests));
    return new Measurement(
        requests,
        0,
        buckets,
        mean * comparisons,
        comparisons,
        comparisons * ((1 - mean) * (1 - mean) + sd * sd));
  }

  @Test
  void tooFewSamplesWaitForMoreRatherThanPassOrFail() {
    // Agreement 0.99 on 20 comparisons, below minSamples (30): no verdict, however good.
    AnalysisVerdict few = AnalysisVerdict.judge(evidence(1000, 20, 0.99, 0.01), spec(null));
    assertThat(few.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    assertThat(few.message())
        .isEqualTo("20 of minSamples 30 shadow comparisons (agreement 0.9900 so far)");
    // No failure in 100 requests: the Wilson bound (3.7%) does not yet show a rate under 1%.
    AnalysisVerdict unproven = AnalysisVerdict.judge(evidence(100, 50, 0.99, 0.01), spec(null));
    assertThat(unproven.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    assertThat(unproven.message())
        .startsWith("error rate 0.0000 [0.0000, 0.0370] over 100 requests: not yet shown within");
  }

  @Test
  void anAgreementWhoseIntervalStraddlesTheThresholdWaitsUntilTheEvidenceDecides() {
    // Mean 0.955, deviation 0.05: over 100 comparisons [0.945, 0.965] straddles minAgreement 0.95.
    AnalysisVerdict straddling =
        AnalysisVerdict.judge(evidence(1000, 100, 0.955, 0.05), spec(null));
    assertThat(straddling.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    assertThat(straddling.message()).contains("not yet shown above minAgreement 0.9500");
    // Over 1000 the interval lies above it.
    assertThat(AnalysisVerdict.judge(evidence(1000, 1000, 0.955, 0.05), spec(null)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.PASSED);
    // Just under it, over enough comparisons, fails.
    assertThat(AnalysisVerdict.judge(evidence(1000, 1000, 0.94, 0.05), spec(null)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.FAILED);
    // Pods without the squares series: the widest deviation for that mean, so a wider interval.
    Measurement noSquares = evidence(1000, 1000, 0.955, 0.05);
    noSquares =
        new Measurement(
            noSquares.requests(),
            noSquares.errors(),
            noSquares.latencyBuckets(),
            noSquares.agreementSum(),
            noSquares.agreementCount());
    AnalysisVerdict widest = AnalysisVerdict.judge(noSquares, spec(null));
    assertThat(widest.agreement().low()).isLessThan(0.95);
    assertThat(widest.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
  }

  @Test
  void aClearlyWorseCanaryFailsBeforeMinSamplesAndOddCountersNeverPass() {
    // 10 comparisons at 0.2: far below minSamples, but at most 0.63 whatever follows.
    AnalysisVerdict early = AnalysisVerdict.judge(evidence(100, 10, 0.2, 0.05), spec(null));
    assertThat(early.outcome()).isEqualTo(AnalysisVerdict.Outcome.FAILED);
    assertThat(early.message()).contains("(Hoeffding) < minAgreement 0.9500");
    // Top-1 agreement, every one of 30 equal: 30 of 30 is not yet above 0.95 (Wilson 0.8865).
    assertThat(AnalysisVerdict.judge(evidence(1000, 30, 1.0, 0), spec(null)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    Measurement nan = evidence(1000, 100, 0.99, 0.01);
    nan =
        new Measurement(
            Double.NaN, 0, nan.latencyBuckets(), nan.agreementSum(), nan.agreementCount());
    assertThat(AnalysisVerdict.judge(nan, spec(null)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
  }

  @Test
  void p99IsJudgedFromAHundredRequestsNotFromOneSlowStart() {
    // 60 requests, the slowest far over the limit: not a failure yet, a wait.
    java.util.TreeMap<Double, Double> slowStart =
        new java.util.TreeMap<>(
            java.util.Map.of(0.01, 59.0, 5.0, 60.0, Double.POSITIVE_INFINITY, 60.0));
    Measurement few = new Measurement(60, 0, slowStart, 59.4, 60, 60 * 0.0002);
    AnalysisSpec strict =
        Fixtures.minilm(
                s ->
                    s.with("rollout")
                        .with("analysis")
                        .put("maxP99LatencyMs", 50.0)
                        .put("maxErrorRate", 0.1))
            .getSpec()
            .rollout()
            .analysis();
    AnalysisVerdict verdict = AnalysisVerdict.judge(few, strict);
    assertThat(verdict.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    assertThat(verdict.message()).isEqualTo("60 requests: p99 latency is judged from 100 on");
  }

  @Test
  void noToleratedFailureFailsOnTheFirstAndPassesWithoutAny() {
    AnalysisSpec strict =
        Fixtures.minilm(s -> s.with("rollout").with("analysis").put("maxErrorRate", 0.0))
            .getSpec()
            .rollout()
            .analysis();
    assertThat(AnalysisVerdict.judge(evidence(50, 40, 0.99, 0.001), strict).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.PASSED);
    Measurement oneFailure = evidence(50, 40, 0.99, 0.001);
    oneFailure =
        new Measurement(
            50,
            1,
            oneFailure.latencyBuckets(),
            oneFailure.agreementSum(),
            oneFailure.agreementCount(),
            oneFailure.disagreementSquares());
    assertThat(AnalysisVerdict.judge(oneFailure, strict).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.FAILED);
  }

  @Test
  void withoutTrafficOrShadowSamplesTheVerdictIsInconclusive() throws Exception {
    assertThat(AnalysisVerdict.judge(Measurement.empty(), spec(null)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
    String noShadow = POD_METRICS.replaceAll("(?m)^shadow.*$", "");
    assertThat(AnalysisVerdict.judge(PrometheusText.parse(noShadow), spec(null)).message())
        .contains("no shadow comparisons");
  }

  @Test
  void aMalformedSampleMakesTheMetricsUnavailableNotAnException() {
    assertThatThrownBy(
            () ->
                PrometheusText.parse(
                    "inference_requests_total{model=\"m\",outcome=\"success\"} lots\n"))
        .isInstanceOf(MetricsSource.MetricsUnavailable.class)
        .hasMessage("a sample of inference_requests_total is not a number");
    assertThatThrownBy(
            () ->
                PrometheusText.parse(
                    "inference_request_duration_seconds_bucket{model=\"m\",le=\"soon\"} 3\n"))
        .isInstanceOf(MetricsSource.MetricsUnavailable.class);
  }

  @Test
  void durationsAndSplits() {
    assertThat(GoDuration.parse("1h30m").toSeconds()).isEqualTo(5400);
    assertThat(GoDuration.parse("45s").toSeconds()).isEqualTo(45);
    assertThat(TrafficSplit.of(2, 10)).isEqualTo(new TrafficSplit(1, 1));
    assertThat(TrafficSplit.of(10, 50)).isEqualTo(new TrafficSplit(5, 5));
    assertThat(TrafficSplit.of(1, 50)).isEqualTo(new TrafficSplit(1, 1));
    assertThat(TrafficSplit.of(3, 100)).isEqualTo(new TrafficSplit(0, 3));
    assertThat(TrafficSplit.of(3, 0)).isEqualTo(new TrafficSplit(3, 0));
  }
}
