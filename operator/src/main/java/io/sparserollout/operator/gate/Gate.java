package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import java.util.Locale;

/** The accuracy (and optional speed) gate: pure arithmetic over the evaluation's numbers. */
public final class Gate {
  /** Floating-point slack so that a drop exactly at the limit passes. */
  private static final double EPSILON = 1e-9;

  private Gate() {}

  public static GateStatus judge(
      GateSpec gate, String metric, double dense, double sparse, Double speedup, String reportUri) {
    double difference = dense - sparse;
    boolean relative = gate.dropType() == GateSpec.DropType.RELATIVE;
    double drop =
        relative ? (dense == 0 ? Double.POSITIVE_INFINITY : difference / dense) : difference;
    boolean accurate = drop <= gate.maxDrop() + EPSILON;
    boolean fast = gate.minSpeedup() == null || (speedup != null && speedup >= gate.minSpeedup());
    StringBuilder message =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%s %.4f (dense %.4f): %s drop %.4f %s allowed %.4f",
                metric,
                sparse,
                dense,
                relative ? "relative" : "absolute",
                drop,
                accurate ? "<=" : ">",
                gate.maxDrop()));
    if (gate.minSpeedup() != null) {
      message.append(
          speedup == null
              ? "; speed-up not measured, minimum " + gate.minSpeedup()
              : String.format(
                  Locale.ROOT,
                  "; speed-up %.2fx %s minimum %.2fx",
                  speedup,
                  fast ? ">=" : "<",
                  gate.minSpeedup()));
    }
    return new GateStatus(
        metric,
        round(dense),
        round(sparse),
        round(drop),
        gate.maxDrop(),
        accurate && fast ? GateStatus.Verdict.PASSED : GateStatus.Verdict.FAILED,
        message.toString(),
        reportUri);
  }

  private static double round(double value) {
    return Double.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
  }
}
