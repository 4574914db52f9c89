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
            "as fast (within 5% of the fastest) as dense-int8, but no better on cosine-fidelity"
                + " (0.8940 vs 0.9900)");
    assertThat(reason(choice, "sparse-fp32"))
        .isEqualTo("slower: 0.59x the throughput of the fastest that passes");
    assertThat(reason(choice, "dense-int8"))
        .isEqualTo(
            "best cosine-fidelity (0.9900) of the variants within 5% of the fastest that passes:"
                + " 170.0/s, 1.70x dense");
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
        throughput / 100,
        metric,
        1 - metric,
        passed,
        null,
        null);
  }
}
