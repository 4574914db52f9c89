package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.PhaseTransition;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class StatusAggregatorTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  private final StatusAggregator aggregator = new StatusAggregator(Clock.fixed(T0, ZoneOffset.UTC));

  @Test
  void newGenerationEntersPendingWithObservedGeneration() {
    SparseModelStatus status = aggregator.acknowledge(model(1, null));

    assertThat(status.getPhase()).isEqualTo(Phase.PENDING);
    assertThat(status.getObservedGeneration()).isEqualTo(1L);
    assertThat(status.getConditions())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.type()).isEqualTo("Ready");
              assertThat(c.status()).isEqualTo("False");
              assertThat(c.reason()).isEqualTo("Pending");
              assertThat(c.observedGeneration()).isEqualTo(1L);
              assertThat(c.lastTransitionTime()).isEqualTo("2026-11-22T10:00:00Z");
            });
    assertThat(status.getHistory())
        .extracting(PhaseTransition::phase)
        .containsExactly(Phase.PENDING);
  }

  @Test
  void observedGenerationIsLeftAloneSoNoPatchIsSent() {
    SparseModelStatus first = aggregator.acknowledge(model(1, null));

    SparseModelStatus again = aggregator.acknowledge(model(1, first));

    assertThat(again).isEqualTo(first);
  }

  @Test
  void conditionKeepsItsTransitionTimeWhileItsStatusIsUnchanged() {
    SparseModelStatus first = aggregator.acknowledge(model(1, null));
    StatusAggregator later = new StatusAggregator(Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC));

    SparseModelStatus second = later.acknowledge(model(2, first));

    assertThat(second.getObservedGeneration()).isEqualTo(2L);
    assertThat(second.getConditions())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.observedGeneration()).isEqualTo(2L);
              assertThat(c.lastTransitionTime()).isEqualTo("2026-11-22T10:00:00Z");
            });
    assertThat(second.getHistory()).hasSize(2);
  }

  @Test
  void historyKeepsOnlyTheMostRecentTransitions() {
    SparseModelStatus status = null;
    for (long generation = 1; generation <= 25; generation++) {
      status = aggregator.acknowledge(model(generation, status));
    }

    assertThat(status.getHistory()).hasSize(SparseModelStatus.HISTORY_LIMIT);
    assertThat(status.getHistory().get(SparseModelStatus.HISTORY_LIMIT - 1).message())
        .contains("Generation 25");
  }

  private static SparseModel model(long generation, SparseModelStatus status) {
    SparseModel model = new SparseModel();
    model.setMetadata(
        new ObjectMetaBuilder()
            .withName("m")
            .withNamespace("ns")
            .withGeneration(generation)
            .build());
    model.setStatus(status);
    return model;
  }
}
