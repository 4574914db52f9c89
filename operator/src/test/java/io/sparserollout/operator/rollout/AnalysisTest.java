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
      inference_requests_total{model="minilm",outcome="success"} 990.0
      inference_requests_total{model="minilm",outcome="error"} 10.0
      # TYPE inference_request_duration_seconds histogram
      inference_request_duration_seconds_bucket{model="minilm",le="0.005"} 500.0
      inference_request_duration_seconds_bucket{model="minilm",le="0.01"} 980.0
      inference_request_duration_seconds_bucket{model="minilm",le="0.02"} 1000.0
      inference_request_duration_seconds_bucket{model="minilm",le="+Inf"} 1000.0
      inference_request_duration_seconds_count{model="minilm"} 1000.0
      shadow_agreement_count{model="minilm"} 100.0
      shadow_agreement_sum{model="minilm"} 97.5
      shadow_agreement{model="minilm",quantile="0.5"} 0.98
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
    assertThat(m.errorRate()).isEqualTo(0.01);
    assertThat(m.agreement()).isEqualTo(0.975);
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
    assertThat(v.message()).contains("agreement 0.9750");
  }

  @Test
  void failsNamingTheMetricThatBrokeItsThreshold() throws Exception {
    assertThat(AnalysisVerdict.judge(PrometheusText.parse(POD_METRICS), spec(10.0)).message())
        .isEqualTo("p99 latency 15.0 ms > maxP99LatencyMs 10.0");
    String lowAgreement = POD_METRICS.replace("97.5", "60.0");
    AnalysisVerdict v = AnalysisVerdict.judge(PrometheusText.parse(lowAgreement), spec(null));
    assertThat(v.outcome()).isEqualTo(AnalysisVerdict.Outcome.FAILED);
    assertThat(v.message()).isEqualTo("shadow agreement 0.6000 < minAgreement 0.9500");
    String errors = POD_METRICS.replace("} 10.0", "} 100.0");
    assertThat(AnalysisVerdict.judge(PrometheusText.parse(errors), spec(null)).message())
        .startsWith("error rate 0.0917 > maxErrorRate 0.0100");
  }

  @Test
  void onlyTheServersFailuresCountAgainstTheCanary() throws Exception {
    // A client flooding the canary with malformed requests (400), unknown models (404) or more
    // load than it takes (429) must not roll it back.
    String clientFailures =
        POD_METRICS.replace(
            "inference_requests_total{model=\"minilm\",outcome=\"error\"} 10.0",
            "inference_requests_total{model=\"minilm\",outcome=\"client_error\"} 500.0\n"
                + "inference_requests_total{model=\"minilm\",outcome=\"overloaded\"} 300.0\n"
                + "inference_requests_total{model=\"minilm\",outcome=\"server_error\"} 1.0");
    Measurement m = PrometheusText.parse(clientFailures);
    assertThat(m.requests()).isEqualTo(1791);
    assertThat(m.errorRate()).isCloseTo(1.0 / 1791, within(1e-12));
    assertThat(AnalysisVerdict.judge(m, spec(20.0)).outcome())
        .isEqualTo(AnalysisVerdict.Outcome.PASSED);
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
