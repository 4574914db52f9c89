package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.SelectionSpec;
import io.sparserollout.api.v1alpha1.VariantStatus;
import io.sparserollout.stage.SpeedRatio;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks the served variant from measured ones: among the candidates that pass the gate, the fastest
 * at the spec's opt shape. A variant the fastest is not shown, with 95% confidence, to beat by more
 * than the tolerance counts as equally fast ({@link SpeedRatio}: timing noise does not make a
 * winner), and the best of those on the gate metric wins (a sparse model merely as fast as dense is
 * not shipped over the more accurate dense one). Every variant gets the reason it was or was not
 * chosen.
 */
public final class VariantSelection {
  private VariantSelection() {}

  /** The variants with their choice and reason, and the chosen one (empty: none passed). */
  public record Choice(List<VariantStatus> variants, Optional<VariantStatus> chosen) {}

  /**
   * @param measured every built variant, with passed set (and the gate's message as reason for
   *     those that failed)
   * @param candidates the names that may be served
   */
  public static Choice choose(
      SelectionSpec selection,
      String metric,
      List<VariantStatus> measured,
      List<String> candidates) {
    double tolerance = selection.tolerance() == null ? 0.05 : selection.tolerance();
    List<VariantStatus> passing =
        measured.stream()
            .filter(v -> candidates.contains(v.name()))
            .filter(v -> Boolean.TRUE.equals(v.passed()))
            .filter(v -> v.throughput() != null && v.metric() != null)
            .toList();
    VariantStatus fastest =
        passing.stream().max(Comparator.comparingDouble(VariantStatus::throughput)).orElse(null);
    Optional<VariantStatus> chosen =
        passing.stream()
            .filter(v -> asFast(fastest, v, tolerance))
            .max(
                Comparator.comparingDouble(VariantStatus::metric)
                    .thenComparingDouble(VariantStatus::throughput));
    List<VariantStatus> out = new ArrayList<>();
    for (VariantStatus v : measured) {
      out.add(
          v.withChoice(
              chosen.map(c -> c.name().equals(v.name())).orElse(false),
              reason(selection, metric, tolerance, fastest, v, candidates, chosen.orElse(null))));
    }
    VariantStatus picked = chosen.orElse(null);
    return new Choice(
        out,
        picked == null
            ? Optional.empty()
            : out.stream().filter(v -> v.name().equals(picked.name())).findFirst());
  }

  /** Whether {@code fastest} is not shown to beat {@code v} by more than the tolerance. */
  private static boolean asFast(VariantStatus fastest, VariantStatus v, double tolerance) {
    return fastest == v || lead(fastest, v).low() <= 1 / (1 - tolerance);
  }

  /** How much faster {@code fastest} is than {@code v}. */
  private static SpeedRatio lead(VariantStatus fastest, VariantStatus v) {
    return SpeedRatio.of(
        fastest.throughput(),
        fastest.throughputByRepetition(),
        v.throughput(),
        v.throughputByRepetition());
  }

  private static String reason(
      SelectionSpec selection,
      String metric,
      double tolerance,
      VariantStatus fastest,
      VariantStatus v,
      List<String> candidates,
      VariantStatus chosen) {
    if (!candidates.contains(v.name())) {
      return selection.policy() == SelectionSpec.Policy.PINNED
          ? "not the pinned variant; timed as the reference"
          : "not a candidate (requireSparse); timed as the reference";
    }
    if (!Boolean.TRUE.equals(v.passed())) {
      return "failed the gate: " + v.reason();
    }
    if (v.throughput() == null || v.metric() == null) {
      return "not measured";
    }
    if (chosen != null && chosen.name().equals(v.name())) {
      String speed =
          String.format(Locale.ROOT, "%.1f/s, ", v.throughput())
              + (v.speedup() == null
                  ? "speed-up not measured"
                  : new SpeedRatio(
                              v.speedupLow() == null ? v.speedup() : v.speedupLow(),
                              v.speedup(),
                              v.speedupHigh() == null ? v.speedup() : v.speedupHigh())
                          .describe()
                      + " dense");
      if (selection.policy() == SelectionSpec.Policy.PINNED) {
        return "pinned, and passes the gate: " + speed;
      }
      return v.name().equals(fastest.name())
          ? "fastest that passes the gate: " + speed
          : String.format(
              Locale.ROOT,
              "best %s (%.4f) of the variants that the fastest that passes, %s, is not shown"
                  + " (95%% confidence) to beat by more than %.0f%%: %s",
              metric,
              v.metric(),
              fastest.name(),
              tolerance * 100,
              speed);
    }
    if (v.name().equals(fastest.name())) {
      return String.format(
          Locale.ROOT,
          "fastest that passes, but its lead over %s, %s, is not shown (95%% confidence) above"
              + " %.0f%%, and %s is better on %s (%.4f vs %.4f)",
          chosen.name(),
          lead(fastest, chosen).describe(),
          tolerance * 100,
          chosen.name(),
          metric,
          chosen.metric(),
          v.metric());
    }
    SpeedRatio lead = lead(fastest, v);
    if (asFast(fastest, v, tolerance)) {
      return String.format(
          Locale.ROOT,
          "as fast as %s (its lead %s is not shown above %.0f%%), but no better on %s than %s"
              + " (%.4f vs %.4f)",
          fastest.name(),
          lead.describe(),
          tolerance * 100,
          metric,
          chosen.name(),
          v.metric(),
          chosen.metric());
    }
    return "slower: the fastest that passes, "
        + fastest.name()
        + ", is "
        + lead.describe()
        + " as fast";
  }
}
