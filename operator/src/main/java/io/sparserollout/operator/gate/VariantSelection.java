package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.SelectionSpec;
import io.sparserollout.api.v1alpha1.VariantStatus;
import io.sparserollout.stage.SpeedRatio;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Picks the served variant from measured ones: among the candidates that pass the gate, those that
 * no other passing candidate beats, where beating means a lead shown with 95% confidence ({@link
 * SpeedRatio}: its interval above 1) and estimated above the tolerance (timing noise makes no
 * winner, a difference too small to matter neither, and a noisy variant's lucky median hides no
 * real lead); of these, the best on the gate metric (a sparse model merely as fast as dense is not
 * shipped over the more accurate dense one). Every variant gets the reason it was or was not
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
    Map<String, VariantStatus> beaten = new HashMap<>();
    for (VariantStatus v : passing) {
      beater(passing, v, tolerance).ifPresent(u -> beaten.put(v.name(), u));
    }
    List<VariantStatus> unbeaten =
        passing.stream().filter(v -> !beaten.containsKey(v.name())).toList();
    if (unbeaten.isEmpty() && fastest != null) {
      // Mixed evidence (medians for some pairs, repetitions for others) could beat every one.
      unbeaten = List.of(fastest);
      beaten.remove(fastest.name());
    }
    Optional<VariantStatus> chosen =
        unbeaten.stream()
            .max(
                Comparator.comparingDouble(VariantStatus::metric)
                    .thenComparingDouble(VariantStatus::throughput));
    List<VariantStatus> out = new ArrayList<>();
    for (VariantStatus v : measured) {
      String why =
          reason(
              selection,
              metric,
              tolerance,
              fastest,
              beaten.get(v.name()),
              v,
              candidates,
              chosen.orElse(null));
      out.add(v.withChoice(chosen.map(c -> c.name().equals(v.name())).orElse(false), why));
    }
    VariantStatus picked = chosen.orElse(null);
    return new Choice(
        out,
        picked == null
            ? Optional.empty()
            : out.stream().filter(v -> v.name().equals(picked.name())).findFirst());
  }

  /**
   * The passing variant that beats {@code v} by the widest margin (the highest lower end of its
   * lead), if any: its lead is shown (the interval's lower end above 1) and, as estimated, more
   * than the tolerance.
   */
  private static Optional<VariantStatus> beater(
      List<VariantStatus> passing, VariantStatus v, double tolerance) {
    return passing.stream()
        .filter(u -> !u.name().equals(v.name()))
        .filter(u -> beats(lead(u, v), tolerance))
        .max(Comparator.comparingDouble(u -> lead(u, v).low()));
  }

  /**
   * Shown faster with 95% confidence, and by more than the tolerance as estimated: only medians (an
   * older stage image) make it the point rule, lead above 1 / (1 - tolerance).
   */
  private static boolean beats(SpeedRatio lead, double tolerance) {
    return lead.low() > 1 && lead.estimate() > 1 / (1 - tolerance);
  }

  /** How much faster {@code a} is than {@code b}. */
  private static SpeedRatio lead(VariantStatus a, VariantStatus b) {
    return SpeedRatio.of(
        a.throughput(), a.throughputByRepetition(), b.throughput(), b.throughputByRepetition());
  }

  private static String reason(
      SelectionSpec selection,
      String metric,
      double tolerance,
      VariantStatus fastest,
      VariantStatus beater,
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
              "best %s (%.4f) of the variants that pass and that no other beats (a lead shown"
                  + " with 95%% confidence and estimated above %.0f%%): %s",
              metric,
              v.metric(),
              tolerance * 100,
              speed);
    }
    if (beater != null) {
      return "slower: " + beater.name() + " is " + lead(beater, v).describe() + " as fast";
    }
    if (v.name().equals(fastest.name())) {
      return String.format(
              Locale.ROOT,
              "fastest that passes, but its lead over %s, %s, is not both shown (95%%"
                  + " confidence) and above %.0f%%, and ",
              chosen.name(),
              lead(fastest, chosen).describe(),
              tolerance * 100)
          + preferred(chosen, v, metric);
    }
    return String.format(
            Locale.ROOT,
            "as fast as the fastest: no variant that passes beats it (a lead shown with 95%%"
                + " confidence and estimated above %.0f%%), but ",
            tolerance * 100)
        + preferred(chosen, v, metric);
  }

  /** Why {@code chosen} was preferred to {@code v}, an equally fast variant. */
  private static String preferred(VariantStatus chosen, VariantStatus v, String metric) {
    return chosen.metric().equals(v.metric())
        ? String.format(
            Locale.ROOT,
            "%s is as good on %s (%.4f) and faster by median",
            chosen.name(),
            metric,
            chosen.metric())
        : String.format(
            Locale.ROOT,
            "%s is better on %s (%.4f vs %.4f)",
            chosen.name(),
            metric,
            chosen.metric(),
            v.metric());
  }
}
