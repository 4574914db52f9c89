package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import java.util.Locale;

/** The accuracy (and optional speed) gate: pure arithmetic over the evaluation's numbers. */
public final class Gate {
  /** Floating-point slack so that a drop exactly at the limit passes. */
  private static final double EPSILON = 1e-9;

  private Gate() {}

  /**
   * The verdict. Fails closed: a value the evaluation did not give (null) or that is not a finite
   * number, and a relative drop from a dense value of 0, fail the gate, naming why; the status then
   * holds no non-finite number (the API server refuses NaN and infinities in JSON).
   */
  public static GateStatus judge(
      GateSpec gate, String metric, Double dense, Double sparse, Double speedup, String reportUri) {
    boolean relative = gate.dropType() == GateSpec.DropType.RELATIVE;
    String unusable =
        !finite(dense)
            ? "the evaluation gave no finite " + metric + " for the dense model (" + dense + ")"
            : !finite(sparse)
                ? "the evaluation gave no finite " + metric + " for the candidate (" + sparse + ")"
                : relative && dense == 0
                    ? "a relative drop from a dense " + metric + " of 0 is undefined"
                    : null;
    if (unusable != null) {
      return new GateStatus(
          metric,
          finite(dense) ? round(dense) : null,
          finite(sparse) ? round(sparse) : null,
          null,
          gate.maxDrop(),
          GateStatus.Verdict.FAILED,
          unusable + ": the gate fails closed",
          reportUri);
    }
    double difference = dense - sparse;
    double drop = relative ? difference / dense : difference;
    boolean accurate = drop <= gate.maxDrop() + EPSILON;
    boolean fast = gate.minSpeedup() == null || (finite(speedup) && speedup >= gate.minSpeedup());
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

  private static boolean finite(Double value) {
    return value != null && Double.isFinite(value);
  }

  private static double round(double value) {
    return Double.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
  }
}
