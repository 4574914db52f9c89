package io.sparserollout.operator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.SelectionSpec;
import io.sparserollout.api.v1alpha1.VariantStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class VariantSelectionTest {
  private static final SelectionSpec FASTEST =
      new SelectionSpec(SelectionSpec.Policy.FASTEST_PASSING, null, false, 0.05);
  private static final List<String> ALL =
      List.of("dense-fp32", "dense-int8", "sparse-fp32", "sparse-int8");

  /** The CPU picture measured on MiniLM: int8 is faster, sparsity alone is not. */
  private static List<VariantStatus> cpu(double sparseInt8Metric, boolean sparseInt8Passes) {
    return List.of(
        v("dense-fp32", 100, 1.0, true),
        v("dense-int8", 170, 0.99, true),
        v("sparse-fp32", 101, 0.905, true),
        v("sparse-int8", 172, sparseInt8Metric, sparseInt8Passes));
  }

  @Test
  void equallyFastVariantsAreDecidedByQualitySoSparseMerelyAsFastAsDenseIsNotShipped() {
    var choice = VariantSelection.choose(FASTEST, "cosine-fidelity", cpu(0.894, true), ALL);

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(choice.variants())
        .extracting(VariantStatus::chosen)
        .containsExactly(false, true, false, false);
    assertThat(reason(choice, "sparse-int8"))
        .isEqualTo(
            "fastest that passes, but its lead over dense-int8, 1.01x, is not both shown (95%"
                + " confidence) and above 5%, and dense-int8 is better on cosine-fidelity (0.9900 vs"
                + " 0.8940)");
    assertThat(reason(choice, "sparse-fp32")).isEqualTo("slower: sparse-int8 is 1.70x as fast");
    assertThat(reason(choice, "dense-int8"))
        .isEqualTo(
            "best cosine-fidelity (0.9900) of the variants that pass and that no other beats (a"
                + " lead shown with 95% confidence and estimated above 5%): 170.0/s, 1.70x dense");
  }

  @Test
  void aClearlyFasterVariantWinsOverABetterOne() {
    var variants =
        List.of(
            v("dense-fp16", 100, 1.0, true),
            v("dense-int8", 150, 0.99, true),
            v("sparse-fp16", 140, 0.95, true),
            v("sparse-int8", 210, 0.93, true));
    var choice =
        VariantSelection.choose(
            FASTEST,
            "cosine-fidelity",
            variants,
            List.of("dense-fp16", "dense-int8", "sparse-fp16", "sparse-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("sparse-int8");
    assertThat(reason(choice, "sparse-int8"))
        .isEqualTo("fastest that passes the gate: 210.0/s, 2.10x dense");
  }

  @Test
  void aLeadThatTimingNoiseCouldMakeIsNoLeadSoTheBetterVariantIsServed() {
    // sparse-int8's median is 8% ahead of dense-int8's, beyond the 5% tolerance, but its
    // repetitions swing from 10% behind to 25% ahead: the lead is not shown.
    var noisy =
        List.of(
            timed("dense-fp32", 1.0, 100, 101, 99, 100, 100),
            timed("dense-int8", 0.99, 170, 168, 172, 170, 171),
            timed("sparse-int8", 0.95, 184, 210, 153, 212, 184));
    var choice =
        VariantSelection.choose(
            FASTEST, "cosine-fidelity", noisy, List.of("dense-fp32", "dense-int8", "sparse-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(reason(choice, "sparse-int8"))
        .isEqualTo(
            "fastest that passes, but its lead over dense-int8, 1.10x (95% 0.93-1.31x), is not"
                + " both shown (95% confidence) and above 5%, and dense-int8 is better on"
                + " cosine-fidelity (0.9900 vs 0.9500)");
    assertThat(reason(choice, "dense-fp32")).startsWith("slower: dense-int8 is 1.70x (95% 1.6");
    assertThat(reason(choice, "dense-int8"))
        .startsWith(
            "best cosine-fidelity (0.9900) of the variants that pass and that no other beats");
  }

  @Test
  void aLeadEveryRepetitionShowsWinsAndASlowMomentSharedByAllDoesNotHideIt() {
    // 8% ahead in every repetition; the third ran in a slow moment of the node, for both.
    var steady =
        List.of(
            timed("dense-fp32", 1.0, 100, 100, 60, 100, 100),
            timed("dense-int8", 0.99, 170, 170, 102, 170, 170),
            timed("sparse-int8", 0.95, 183.6, 183.6, 110.2, 183.6, 183.6));
    var choice =
        VariantSelection.choose(
            FASTEST, "cosine-fidelity", steady, List.of("dense-fp32", "dense-int8", "sparse-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("sparse-int8");
    assertThat(reason(choice, "dense-int8")).isEqualTo("slower: sparse-int8 is 1.08x as fast");
  }

  @Test
  void aNoisyVariantsLuckyMedianDoesNotHideALeadAnotherVariantShows() {
    // sparse-fp32's median is the highest, but its repetitions swing widely; dense-int8 beats
    // dense-fp32 by 1.2x in every repetition, so dense-fp32 must not win on its metric.
    var variants =
        List.of(
            timed("dense-fp32", 1.0, 100, 101, 99, 100, 100),
            timed("dense-int8", 0.99, 120, 121, 119, 120, 120),
            timed("sparse-fp32", 0.90, 70, 200, 130, 80, 190));
    var choice =
        VariantSelection.choose(
            FASTEST,
            "cosine-fidelity",
            variants,
            List.of("dense-fp32", "dense-int8", "sparse-fp32"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(reason(choice, "dense-fp32")).startsWith("slower: dense-int8 is 1.20x");
    assertThat(reason(choice, "sparse-fp32"))
        .startsWith("fastest that passes, but its lead over dense-int8");
  }

  @Test
  void equallyFastAndEquallyGoodVariantsAreToldApartBySpeedAndSaySo() {
    var variants =
        List.of(
            v("dense-fp32", 100, 1.0, true),
            v("dense-int8", 101, 1.0, true),
            v("sparse-fp32", 103, 0.95, true));
    var choice =
        VariantSelection.choose(
            FASTEST, "accuracy", variants, List.of("dense-fp32", "dense-int8", "sparse-fp32"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(reason(choice, "dense-fp32"))
        .isEqualTo(
            "as fast as the fastest: no variant that passes beats it (a lead shown with 95%"
                + " confidence and estimated above 5%), but dense-int8 is as good on accuracy"
                + " (1.0000) and faster by median");
    assertThat(reason(choice, "sparse-fp32"))
        .isEqualTo(
            "fastest that passes, but its lead over dense-int8, 1.02x, is not both shown (95%"
                + " confidence) and above 5%, and dense-int8 is better on accuracy (1.0000 vs 0.9500)");
  }

  @Test
  void aLeadShownAndEstimatedAboveTheToleranceWinsThoughItsLowerEndIsUnderIt() {
    // int8 is 1.25-1.35x faster in four repetitions and 0.98x in the fifth (a slow moment of its
    // own): shown faster (the interval's lower end, 1.048, is above 1 though under the 1.053 of
    // the tolerance), and by an estimated 1.24x, so it wins.
    var variants =
        List.of(
            timed("dense-fp32", 1.0, 100, 100, 100, 100, 100),
            timed("dense-int8", 0.99, 135, 135, 98, 125, 130));
    var choice =
        VariantSelection.choose(
            FASTEST, "cosine-fidelity", variants, List.of("dense-fp32", "dense-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(reason(choice, "dense-fp32")).startsWith("slower: dense-int8 is 1.24x (95% 1.05-");
  }

  @Test
  void anIntervalThatStaysWithinTheToleranceMakesATieAsTheMediansWould() {
    var close =
        List.of(
            timed("dense-fp32", 1.0, 100, 101, 99, 100, 100),
            timed("sparse-fp32", 0.95, 103, 103, 104, 102, 103));
    var choice =
        VariantSelection.choose(
            FASTEST, "cosine-fidelity", close, List.of("dense-fp32", "sparse-fp32"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-fp32");
    assertThat(reason(choice, "dense-fp32"))
        .matches(
            "best cosine-fidelity \\(1\\.0000\\) of the variants that pass and that no other"
                + " beats .*: 100\\.0/s, .*");
  }

  @Test
  void aVariantThatFailsTheGateIsNeverChosenAndSaysWhy() {
    var failing =
        cpu(0.6, false).stream()
            .map(v -> v.name().equals("sparse-int8") ? v.withChoice(false, "drop 0.4 > 0.1") : v)
            .toList();
    var choice =
        VariantSelection.choose(
            new SelectionSpec(SelectionSpec.Policy.FASTEST_PASSING, null, false, 0.0),
            "cosine-fidelity",
            failing,
            ALL);

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-int8");
    assertThat(reason(choice, "sparse-int8")).isEqualTo("failed the gate: drop 0.4 > 0.1");
  }

  @Test
  void requireSparseChoosesAmongSparseOnlyAndSaysDenseWasTheReference() {
    var choice =
        VariantSelection.choose(
            new SelectionSpec(SelectionSpec.Policy.FASTEST_PASSING, null, true, 0.05),
            "cosine-fidelity",
            cpu(0.894, true),
            List.of("sparse-fp32", "sparse-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("sparse-int8");
    assertThat(reason(choice, "dense-int8"))
        .isEqualTo("not a candidate (requireSparse); timed as the reference");
  }

  @Test
  void whenNoCandidatePassesNothingIsChosen() {
    var choice =
        VariantSelection.choose(
            new SelectionSpec(SelectionSpec.Policy.PINNED, "sparse-int8", false, 0.05),
            "cosine-fidelity",
            cpu(0.6, false),
            List.of("sparse-int8"));

    assertThat(choice.chosen()).isEmpty();
    assertThat(choice.variants()).extracting(VariantStatus::chosen).containsOnly(false);
    assertThat(reason(choice, "dense-int8"))
        .isEqualTo("not the pinned variant; timed as the reference");
  }

  @Test
  void anUnmeasuredVariantIsNotChosen() {
    var variants =
        List.of(
            v("dense-fp32", 100, 1.0, true),
            new VariantStatus(
                "sparse-int8",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0.95,
                0.05,
                true,
                null,
                null));
    var choice =
        VariantSelection.choose(
            FASTEST, "cosine-fidelity", variants, List.of("dense-fp32", "sparse-int8"));

    assertThat(choice.chosen()).get().extracting(VariantStatus::name).isEqualTo("dense-fp32");
    assertThat(reason(choice, "sparse-int8")).isEqualTo("not measured");
  }

  private static String reason(VariantSelection.Choice choice, String name) {
    return choice.variants().stream()
        .filter(v -> v.name().equals(name))
        .findFirst()
        .orElseThrow()
        .reason();
  }

  /** A variant timed in five repetitions (its throughput their median, speed-up unknown). */
  private static VariantStatus timed(String name, double metric, double... repetitions) {
    double[] sorted = repetitions.clone();
    java.util.Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
    return new VariantStatus(
        name,
        null,
        null,
        null,
        8,
        128,
        median,
        null,
        null,
        null,
        java.util.Arrays.stream(repetitions).boxed().toList(),
        null,
        null,
        null,
        metric,
        1 - metric,
        true,
        null,
        null);
  }

  private static VariantStatus v(String name, double throughput, double metric, boolean passed) {
    return new VariantStatus(
        name,
        "pvc://store/engine/" + name,
        "e".repeat(64),
        name.startsWith("sparse") ? 36 : 0,
        8,
        128,
        throughput,
        8000 / throughput,
        9000 / throughput,
        0.03,
        null,
        throughput / 100,
        null,
        null,
        metric,
        1 - metric,
        passed,
        null,
        null);
  }
}
