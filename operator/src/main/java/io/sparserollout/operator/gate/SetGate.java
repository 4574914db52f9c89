package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The gate over several named held-out sets: each set is judged on its own, then combined as
 * spec.gate.perSet says. One unnamed set is judged exactly as {@link Gate} judges it.
 */
public final class SetGate {
  private SetGate() {}

  /** A held-out set's metric for the dense model and the candidate; name null for the only set. */
  public record SetValue(String name, Integer samples, Double dense, Double sparse) {}

  public static GateStatus judge(
      GateSpec gate, String metric, List<SetValue> sets, Double speedup, String reportUri) {
    if (sets.size() == 1 && sets.get(0).name() == null) {
      SetValue only = sets.get(0);
      return Gate.judge(gate, metric, only.dense(), only.sparse(), speedup, reportUri);
    }
    // Each set on accuracy alone: the speed-up is one number for all sets, judged once below.
    GateSpec accuracyOnly =
        new GateSpec(gate.metric(), gate.maxDrop(), gate.dropType(), null, gate.perSet());
    List<GateStatus> each = new ArrayList<>();
    for (SetValue set : sets) {
      each.add(Gate.judge(accuracyOnly, metric, set.dense(), set.sparse(), null, reportUri));
    }
    boolean mean = gate.perSetOrDefault() == GateSpec.PerSet.MEAN;
    List<GateStatus.SetVerdict> verdicts = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      GateStatus v = each.get(i);
      verdicts.add(
          new GateStatus.SetVerdict(
              sets.get(i).name(),
              sets.get(i).samples(),
              v.dense(),
              v.sparse(),
              v.drop(),
              mean ? null : v.verdict()));
    }
    String names = sets.stream().map(SetValue::name).collect(Collectors.joining(", "));
    if (mean) {
      GateStatus g =
          Gate.judge(
              gate,
              metric,
              mean(sets.stream().map(SetValue::dense).toList()),
              mean(sets.stream().map(SetValue::sparse).toList()),
              speedup,
              reportUri);
      String unusable =
          sets.stream()
              .filter(set -> !finite(set.dense()) || !finite(set.sparse()))
              .map(SetValue::name)
              .collect(Collectors.joining(", "));
      return withSets(
          g,
          "mean of "
              + sets.size()
              + " sets ("
              + names
              + "): "
              + (unusable.isEmpty() ? "" : "no finite " + metric + " on set " + unusable + ": ")
              + g.message(),
          verdicts);
    }
    int worst = worst(each);
    SetValue binding = sets.get(worst);
    GateStatus head =
        Gate.judge(gate, metric, binding.dense(), binding.sparse(), speedup, reportUri);
    List<String> failed = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      if (each.get(i).verdict() == GateStatus.Verdict.FAILED) {
        failed.add(sets.get(i).name());
      }
    }
    String tally =
        failed.isEmpty()
            ? "the drop is within the limit on every set of " + sets.size() + " (" + names + ")"
            : failed.size()
                + " of "
                + sets.size()
                + " sets fail ("
                + String.join(", ", failed)
                + ")";
    return withSets(head, "set " + binding.name() + ": " + head.message() + "; " + tally, verdicts);
  }

  /**
   * The sets' metric as one value and its drop, whatever spec.gate.perSet says: a number that
   * compares variants, each of whose verdicts may turn on another set. One unnamed set: its value.
   */
  public static GateStatus mean(GateSpec gate, String metric, List<SetValue> sets) {
    GateSpec mean =
        new GateSpec(gate.metric(), gate.maxDrop(), gate.dropType(), null, GateSpec.PerSet.MEAN);
    return judge(mean, metric, sets, null, null);
  }

  /** The set the verdict turns on: a failing set before a passing one, then the largest drop. */
  private static int worst(List<GateStatus> each) {
    Comparator<GateStatus> badness =
        Comparator.comparing((GateStatus v) -> v.verdict() == GateStatus.Verdict.FAILED)
            // A set without a usable number fails closed and is the worst of all.
            .thenComparing(v -> v.drop() == null ? Double.POSITIVE_INFINITY : v.drop());
    int worst = 0;
    for (int i = 1; i < each.size(); i++) {
      if (badness.compare(each.get(i), each.get(worst)) > 0) {
        worst = i;
      }
    }
    return worst;
  }

  /** The mean, or null when a set gave no finite number (the gate then fails closed). */
  private static Double mean(List<Double> values) {
    double sum = 0;
    for (Double v : values) {
      if (!finite(v)) {
        return null;
      }
      sum += v;
    }
    return sum / values.size();
  }

  private static boolean finite(Double value) {
    return value != null && Double.isFinite(value);
  }

  private static GateStatus withSets(
      GateStatus g, String message, List<GateStatus.SetVerdict> verdicts) {
    return new GateStatus(
        g.metric(),
        g.dense(),
        g.sparse(),
        g.drop(),
        g.allowedDrop(),
        g.verdict(),
        message,
        g.reportUri(),
        verdicts);
  }
}
