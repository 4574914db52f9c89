package io.sparserollout.operator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.operator.gate.SetGate.SetValue;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Named held-out sets: each judged alone, combined by perSet all or mean. */
class SetGateTest {
  private static final String METRIC = "cosine-fidelity";

  private static GateSpec gate(GateSpec.PerSet perSet, Double minSpeedup) {
    return new GateSpec(
        GateSpec.Metric.COSINE_FIDELITY, 0.1, GateSpec.DropType.ABSOLUTE, minSpeedup, perSet);
  }

  private static final List<SetValue> ONE_FAILS =
      List.of(
          new SetValue("users", 300, 1.0, 0.95),
          new SetValue("licenses", 166, 1.0, 0.84),
          new SetValue("traffic", 120, 1.0, 0.92));

  @Test
  void oneUnnamedSetIsJudgedAsWithoutSets() {
    GateSpec gate = gate(null, null);
    assertThat(SetGate.judge(gate, METRIC, List.of(new SetValue(null, 300, 1.0, 0.9)), null, "r"))
        .isEqualTo(Gate.judge(gate, METRIC, 1.0, 0.9, null, "r"));
  }

  @Test
  void withAllOneFailingSetFailsTheGateAndTheVerdictNamesIt() {
    GateStatus status = SetGate.judge(gate(null, null), METRIC, ONE_FAILS, null, "r");

    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(status.sparse()).isEqualTo(0.84);
    assertThat(status.drop()).isEqualTo(0.16);
    assertThat(status.message())
        .isEqualTo(
            "set licenses: cosine-fidelity 0.8400 (dense 1.0000): absolute drop 0.1600 > allowed"
                + " 0.1000; 1 of 3 sets fail (licenses)");
    assertThat(status.sets())
        .extracting(GateStatus.SetVerdict::name, GateStatus.SetVerdict::verdict)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("users", GateStatus.Verdict.PASSED),
            org.assertj.core.groups.Tuple.tuple("licenses", GateStatus.Verdict.FAILED),
            org.assertj.core.groups.Tuple.tuple("traffic", GateStatus.Verdict.PASSED));
    assertThat(status.sets().get(2).samples()).isEqualTo(120);
    assertThat(status.sets().get(2).drop()).isEqualTo(0.08);
  }

  @Test
  void withAllEverySetPassingTheHeadlineIsTheClosestSet() {
    List<SetValue> sets =
        List.of(new SetValue("users", 300, 1.0, 0.95), new SetValue("traffic", 120, 1.0, 0.92));
    GateStatus status = SetGate.judge(gate(GateSpec.PerSet.ALL, null), METRIC, sets, null, "r");

    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(status.sparse()).isEqualTo(0.92);
    assertThat(status.message())
        .startsWith("set traffic: ")
        .endsWith("the drop is within the limit on every set of 2 (users, traffic)");
  }

  @Test
  void theSpeedUpIsJudgedOnceAndNotPerSet() {
    List<SetValue> sets =
        List.of(new SetValue("users", 300, 1.0, 0.95), new SetValue("traffic", 120, 1.0, 0.92));
    GateStatus status = SetGate.judge(gate(null, 1.5), METRIC, sets, 1.2, "r");

    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(status.message()).contains("speed-up 1.20x < minimum 1.50x");
    assertThat(status.sets())
        .extracting(GateStatus.SetVerdict::verdict)
        .containsOnly(GateStatus.Verdict.PASSED);
  }

  @Test
  void withMeanTheSetsMeanPassesWhereOneSetAloneWouldFail() {
    GateStatus status =
        SetGate.judge(gate(GateSpec.PerSet.MEAN, null), METRIC, ONE_FAILS, null, "r");

    assertThat(status.verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(status.sparse()).isEqualTo(0.903333);
    assertThat(status.message())
        .startsWith("mean of 3 sets (users, licenses, traffic): cosine-fidelity 0.9033");
    // Per-set numbers are shown, verdicts are not: no set is judged alone.
    assertThat(status.sets()).extracting(GateStatus.SetVerdict::verdict).containsOnlyNulls();
    assertThat(status.sets().get(1).drop()).isEqualTo(0.16);
  }

  @Test
  void aSetWithoutANumberFailsClosedInEitherMode() {
    List<SetValue> sets =
        List.of(new SetValue("users", 300, 1.0, 0.99), new SetValue("traffic", 120, 1.0, null));

    GateStatus all = SetGate.judge(gate(null, null), METRIC, sets, null, "r");
    assertThat(all.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(all.message())
        .startsWith("set traffic: the evaluation gave no finite cosine-fidelity for the candidate");

    GateStatus mean = SetGate.judge(gate(GateSpec.PerSet.MEAN, null), METRIC, sets, null, "r");
    assertThat(mean.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(mean.message())
        .startsWith("mean of 2 sets (users, traffic): no finite cosine-fidelity on set traffic: ")
        .endsWith("the gate fails closed");
  }

  @Test
  void variantsCompareOnTheSetsMeanWhicheverSetTheirVerdictTurnsOn() {
    // Each loses most on another set; the mean says which is better overall.
    List<SetValue> a =
        List.of(new SetValue("users", 10, 0.62, 0.52), new SetValue("legal", 10, 0.91, 0.90));
    List<SetValue> b =
        List.of(new SetValue("users", 10, 0.62, 0.61), new SetValue("legal", 10, 0.91, 0.85));
    GateSpec gate = gate(null, null);
    assertThat(SetGate.judge(gate, METRIC, a, null, "r").sparse()).isEqualTo(0.52);
    assertThat(SetGate.judge(gate, METRIC, b, null, "r").sparse()).isEqualTo(0.85);
    assertThat(SetGate.mean(gate, METRIC, a).sparse()).isEqualTo(0.71);
    assertThat(SetGate.mean(gate, METRIC, b).sparse()).isEqualTo(0.73);
    assertThat(SetGate.mean(gate, METRIC, List.of(new SetValue(null, 10, 1.0, 0.9))).sparse())
        .isEqualTo(0.9);
  }

  @Test
  void amongFailingSetsTheLargestDropIsTheHeadline() {
    List<SetValue> sets =
        List.of(
            new SetValue("a", 10, 1.0, 0.85),
            new SetValue("b", 10, 1.0, 0.70),
            new SetValue("c", 10, 1.0, 0.80));
    GateStatus status = SetGate.judge(gate(null, null), METRIC, sets, null, "r");
    assertThat(status.message()).startsWith("set b: ").endsWith("3 of 3 sets fail (a, b, c)");
  }
}
