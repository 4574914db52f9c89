package io.sparserollout.operator.gate;

import io.sparserollout.api.v1alpha1.SelectionSpec;
import io.sparserollout.api.v1alpha1.VariantStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks the served variant from measured ones: among the candidates that pass the gate, the fastest
 * at the spec's opt shape; variants within the tolerance of the fastest count as equally fast and
 * the best of them on the gate metric wins (a sparse model merely as fast as dense is not shipped
 * over the more accurate dense one). Every variant gets the reason it was or was not chosen.
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
    Optional<VariantStatus> chosen = Optional.empty();
    double fastest = passing.stream().mapToDouble(VariantStatus::throughput).max().orElse(0);
    if (!passing.isEmpty()) {
      chosen =
          passing.stream()
              .filter(v -> v.throughput() >= fastest * (1 - tolerance))
              .max(
                  Comparator.comparingDouble(VariantStatus::metric)
                      .thenComparingDouble(VariantStatus::throughput));
    }
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

  private static String reason(
      SelectionSpec selection,
      String metric,
      double tolerance,
      double fastest,
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
          String.format(
              Locale.ROOT,
              "%.1f/s, %s",
              v.throughput(),
              v.speedup() == null
                  ? "speed-up not measured"
                  : String.format(Locale.ROOT, "%.2fx dense", v.speedup()));
      if (selection.policy() == SelectionSpec.Policy.PINNED) {
        return "pinned, and passes the gate: " + speed;
      }
      return v.throughput() >= fastest
          ? "fastest that passes the gate: " + speed
          : String.format(
              Locale.ROOT,
              "best %s (%.4f) of the variants within %.0f%% of the fastest that passes: %s",
              metric,
              v.metric(),
              tolerance * 100,
              speed);
    }
    if (v.throughput() >= fastest * (1 - tolerance)) {
      return String.format(
          Locale.ROOT,
          "as fast (within %.0f%% of the fastest) as %s, but no better on %s (%.4f vs %.4f)",
          tolerance * 100,
          chosen.name(),
          metric,
          v.metric(),
          chosen.metric());
    }
    return String.format(
        Locale.ROOT,
        "slower: %.2fx the throughput of the fastest that passes",
        v.throughput() / fastest);
  }
}
