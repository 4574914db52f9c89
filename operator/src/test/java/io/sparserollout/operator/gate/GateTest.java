package io.sparserollout.operator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import org.junit.jupiter.api.Test;

class GateTest {
  private static GateSpec gate(double maxDrop, GateSpec.DropType type, Double minSpeedup) {
    return new GateSpec(GateSpec.Metric.COSINE_FIDELITY, maxDrop, type, minSpeedup, null);
  }

  @Test
  void absoluteDropWithinTheLimitPasses() {
    GateStatus status =
        Gate.judge(
            gate(0.1, GateSpec.DropType.ABSOLUTE, null), "cosine-fidelity", 1.0, 0.9037, null, "r");

    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(status.drop()).isEqualTo(0.0963);
    assertThat(status.message())
        .isEqualTo("cosine-fidelity 0.9037 (dense 1.0000): absolute drop 0.0963 <= allowed 0.1000");
  }

  @Test
  void aDropExactlyAtTheLimitPasses() {
    assertThat(
            Gate.judge(gate(0.05, GateSpec.DropType.ABSOLUTE, null), "m", 0.95, 0.90, null, null)
                .verdict())
        .isEqualTo(GateStatus.Verdict.PASSED);
  }

  @Test
  void relativeDropIsMeasuredAgainstTheBaseline() {
    GateStatus status =
        Gate.judge(gate(0.05, GateSpec.DropType.RELATIVE, null), "ndcg", 0.40, 0.37, null, null);

    assertThat(status.drop()).isEqualTo(0.075);
    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(status.message()).contains("relative drop 0.0750 > allowed 0.0500");
  }

  @Test
  void aMissingOrSmallSpeedupFailsAMinimumSpeedupGate() {
    GateSpec fast = gate(0.1, GateSpec.DropType.ABSOLUTE, 1.2);

    assertThat(Gate.judge(fast, "m", 1.0, 0.95, 1.1, null).verdict())
        .isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(Gate.judge(fast, "m", 1.0, 0.95, null, null).message())
        .contains("speed-up not measured");
    assertThat(Gate.judge(fast, "m", 1.0, 0.95, 1.3, null).verdict())
        .isEqualTo(GateStatus.Verdict.PASSED);
  }

  @Test
  void missingOrNonFiniteNumbersFailClosedAndLeaveAWritableStatus() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    GateSpec absolute = gate(0.1, GateSpec.DropType.ABSOLUTE, null);
    GateSpec relative = gate(0.1, GateSpec.DropType.RELATIVE, null);

    // A task metric the evaluation did not report, for both models: it used to read as 0 and 0.
    GateStatus missing = Gate.judge(absolute, "ndcg", null, null, null, null);
    assertThat(missing.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(missing.message())
        .isEqualTo(
            "the evaluation gave no finite ndcg for the dense model (null): the gate fails closed");

    GateStatus nan = Gate.judge(absolute, "accuracy", 0.9, Double.NaN, null, null);
    assertThat(nan.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(nan.message()).contains("no finite accuracy for the candidate (NaN)");

    GateStatus zero = Gate.judge(relative, "pnr", 0.0, 0.0, null, null);
    assertThat(zero.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(zero.message()).contains("relative drop from a dense pnr of 0 is undefined");

    for (GateStatus status : java.util.List.of(missing, nan, zero)) {
      // Strict JSON, as the API server reads it: a NaN or infinite number would not parse.
      assertThat(json.readTree(json.writeValueAsString(status)).path("verdict").asText())
          .isEqualTo("Failed");
      assertThat(status.drop()).isNull();
    }
  }
}
