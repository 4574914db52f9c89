package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

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
  void aNewRevisionStartsPendingAndRecordsTheGeneration() {
    SparseModelStatus status = aggregator.begin(Fixtures.minilm());
    aggregator.startRevision(status, "abc");
    aggregator.summarize(status, "waiting");

    assertThat(status.getPhase()).isEqualTo(Phase.PENDING);
    assertThat(status.getObservedGeneration()).isEqualTo(1L);
    assertThat(status.getHistory())
        .extracting(PhaseTransition::phase, PhaseTransition::revision)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Phase.PENDING, "abc"));
    assertThat(status.getConditions())
        .extracting(c -> c.type() + "=" + c.status())
        .containsExactly("Ready=False", "Progressing=True", "Degraded=False");
  }

  @Test
  void everyStatusMessageIsCappedWhateverProducedIt() {
    SparseModelStatus status = aggregator.begin(Fixtures.minilm());
    String huge = "x".repeat(100_000);

    aggregator.startRevision(status, "abc");
    aggregator.enter(status, Phase.FAILED, huge);
    aggregator.setProblem(status, StatusAggregator.DEGRADED, "Test", huge, 1);

    assertThat(status.getHistory().get(status.getHistory().size() - 1).message())
        .hasSize(SparseModelStatus.MESSAGE_LIMIT)
        .endsWith("...");
    assertThat(status.getConditions())
        .allSatisfy(c -> assertThat(c.message().length()).isLessThanOrEqualTo(1024));
    assertThat(
            io.sparserollout.api.v1alpha1.RolloutStatus.from(null).message(huge).build().message())
        .hasSize(SparseModelStatus.MESSAGE_LIMIT);
  }

  @Test
  void theSameObservationsGiveAnEqualStatusSoNoPatchIsSent() {
    SparseModel model = Fixtures.minilm();
    SparseModelStatus first = aggregator.begin(model);
    aggregator.startRevision(first, "abc");
    aggregator.enter(first, Phase.PRUNING, "started");
    aggregator.summarize(first, "running");
    model.setStatus(first);

    StatusAggregator later = new StatusAggregator(Clock.fixed(T0.plusSeconds(90), ZoneOffset.UTC));
    SparseModelStatus again = later.begin(model);
    later.enter(again, Phase.PRUNING, "started");
    later.summarize(again, "running");

    assertThat(again).isEqualTo(first);
  }

  /** A field begin() leaves out is lost at every reconcile that does not set it again. */
  @Test
  void aReconcileStartsFromEveryFieldOfTheStatus() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    SparseModelStatus full =
        json.readValue(
            "{\"phase\":\"Promoted\",\"observedGeneration\":3,\"revision\":\"abc\","
                + "\"conditions\":[{\"type\":\"Ready\"}],\"pruning\":{\"method\":\"magnitude\"},"
                + "\"capturedData\":{\"calibration\":{\"samples\":128}},"
                + "\"drift\":{\"revision\":\"abc\",\"drifting\":false},"
                + "\"recalibration\":{\"count\":1,\"fromRevision\":\"abc\"},"
                + "\"captureEpoch\":2,"
                + "\"gate\":{\"metric\":\"cosine-fidelity\"},\"engine\":{\"backend\":\"onnxruntime\"},"
                + "\"progress\":{\"stage\":\"finetune\",\"step\":3},"
                + "\"rollout\":{\"stableRevision\":\"abc\"},"
                + "\"completedStages\":[{\"stage\":\"prune\"}],\"history\":[{\"phase\":\"Pruning\"}],"
                + "\"artifactKey\":\"k\",\"reusedFrom\":{\"model\":\"m\"},\"artifactRun\":\"run\","
                + "\"variants\":[{\"name\":\"dense-fp32\"}]}",
            SparseModelStatus.class);
    com.fasterxml.jackson.databind.JsonNode tree = json.valueToTree(full);
    for (var field : SparseModelStatus.class.getDeclaredFields()) {
      if (!java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
        com.fasterxml.jackson.databind.JsonNode value = tree.get(field.getName());
        assertThat(
                value != null && !value.isNull() && !(value.isContainerNode() && value.isEmpty()))
            .as("the test sets status.%s", field.getName())
            .isTrue();
      }
    }
    SparseModel model = Fixtures.minilm();
    model.getMetadata().setGeneration(3L);
    model.setStatus(full);

    assertThat(aggregator.begin(model)).isEqualTo(full);
  }

  @Test
  void conditionsKeepTheirTransitionTimeUntilTheirStatusChanges() {
    SparseModelStatus status = aggregator.begin(Fixtures.minilm());
    aggregator.setCondition(status, "Ready", "False", "Pruning", "a", 1);
    StatusAggregator later = new StatusAggregator(Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC));

    later.setCondition(status, "Ready", "False", "Evaluating", "b", 2);
    assertThat(status.getConditions().get(0).lastTransitionTime())
        .isEqualTo("2026-11-22T10:00:00Z");
    later.setCondition(status, "Ready", "True", "GatePassed", "c", 2);
    assertThat(status.getConditions().get(0).lastTransitionTime())
        .isEqualTo("2026-11-22T10:01:00Z");
  }

  @Test
  void historyKeepsOnlyTheMostRecentTransitions() {
    SparseModelStatus status = aggregator.begin(Fixtures.minilm());
    for (int i = 0; i < 25; i++) {
      aggregator.enter(status, i % 2 == 0 ? Phase.PRUNING : Phase.EVALUATING, "step " + i);
    }

    assertThat(status.getHistory()).hasSize(SparseModelStatus.HISTORY_LIMIT);
    assertThat(status.getHistory().get(SparseModelStatus.HISTORY_LIMIT - 1).message())
        .isEqualTo("step 24");
  }

  @Test
  void aFailedPhaseIsDegradedWithTheMessage() {
    SparseModelStatus status = aggregator.begin(Fixtures.minilm());
    aggregator.enter(status, Phase.GATE_FAILED, "drop too large");
    aggregator.summarize(status, "drop too large");

    assertThat(status.getConditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.status()).isEqualTo("True");
              assertThat(c.reason()).isEqualTo("GateFailed");
              assertThat(c.message()).isEqualTo("drop too large");
            });
  }

  @Test
  void aProblemAsksForItsWarningOnlyWhenItFirstTurnsFalse() {
    SparseModelStatus status = new SparseModelStatus();

    assertThat(
            aggregator.setProblem(status, "TrafficRouting", "GatewayApiNotInstalled", "no CRDs", 1))
        .isTrue();
    assertThat(
            aggregator.setProblem(status, "TrafficRouting", "GatewayApiNotInstalled", "no CRDs", 1))
        .isFalse();
    assertThat(status.getConditions())
        .singleElement()
        .satisfies(c -> assertThat(c.status()).isEqualTo("False"));
  }
}
