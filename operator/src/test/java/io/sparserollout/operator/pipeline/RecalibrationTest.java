package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.api.v1alpha1.DataSource;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.api.v1alpha1.EvaluationSet;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.RecalibrationStatus;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.Fixtures;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RecalibrationTest {
  private static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");

  /** The sample, watched for drift, capturing, and recalibrating on drift. */
  private static SparseModel recalibrating(Consumer<ObjectNode> more) {
    return Fixtures.minilm(
        spec -> {
          spec.with("rollout")
              .with("analysis")
              .put("driftWindow", "30m")
              .put("autoRecalibrate", true);
          spec.with("rollout").with("capture").put("enabled", true);
          more.accept(spec);
        });
  }

  @Test
  void aRankerIsNotRecalibratedAndSaysWhy() {
    SparseModelSpec spec = recalibrating(s -> s.with("source").put("task", "ranking")).getSpec();

    assertThat(SpecValidator.problems(spec))
        .singleElement()
        .asString()
        .startsWith("spec.rollout.analysis.autoRecalibrate: a ranker")
        .contains("which query each pair belongs to");
  }

  @Test
  void aRecalibrationCalibratesHalfOnCapturedSamplesAndIsAlsoJudgedOnThem() {
    SparseModelSpec spec = recalibrating(s -> {}).getSpec();

    SparseModelSpec recalibrated = Recalibration.recalibrated(spec);

    assertThat(recalibrated.sparsity().calibration().source()).isEqualTo(DataSource.MIXED);
    assertThat(recalibrated.sparsity().calibration().dataUri())
        .isEqualTo(spec.sparsity().calibration().dataUri());
    assertThat(recalibrated.evaluation().dataUri()).isNull();
    assertThat(recalibrated.evaluation().sets())
        .containsExactly(
            new EvaluationSet("file", "pvc://models/data/evaluation.txt", null, null),
            new EvaluationSet("captured", null, null, DataSource.CAPTURED));
    assertThat(recalibrated.rollout().analysis().recalibratesOnDrift()).isFalse();
    assertThat(SpecValidator.problems(recalibrated)).isEmpty();
    // Serving settings are as written.
    assertThat(recalibrated.rollout().capture()).isEqualTo(spec.rollout().capture());
  }

  @Test
  void aRecalibrationIsANewRevisionAndNoneChangesTheSpecsOwn() {
    SparseModelSpec spec = recalibrating(s -> {}).getSpec();
    String own = Revision.of(spec);

    Revision.Next recalibrated = Revision.next(Recalibration.recalibrated(spec), own, null);
    assertThat(recalibrated.revision()).isNotEqualTo(own);
    assertThat(recalibrated.epoch()).isEqualTo(1);
    // A spec already calibrating on captured samples reads the same recalibrated but for the
    // added set; its revision takes the next capture epoch all the same.
    SparseModelSpec mixed =
        recalibrating(s -> s.with("sparsity").with("calibration").put("source", "mixed")).getSpec();
    assertThat(Recalibration.recalibrated(mixed).sparsity().calibration())
        .isEqualTo(mixed.sparsity().calibration());
    assertThat(Revision.next(Recalibration.recalibrated(mixed), Revision.of(mixed), 3).epoch())
        .isEqualTo(4);
  }

  /**
   * A recalibration whose spec reads exactly as the stable's did (a second one, or a spec whose
   * calibration and evaluation already read captured samples) still starts a revision: recorded and
   * not started, it takes the next epoch; once started, the name holds.
   */
  @Test
  void aRecalibrationReadingAsTheStableDidStillStartsARevision() {
    SparseModelSpec spec =
        recalibrating(
                s -> {
                  s.with("sparsity").with("calibration").put("source", "captured");
                  s.with("evaluation").remove(java.util.List.of("dataUri"));
                })
            .getSpec();
    SparseModelSpec recalibrated = Recalibration.recalibrated(spec);
    assertThat(Revision.of(recalibrated)).isEqualTo(Revision.of(spec));
    SparseModelStatus drifting = promotedAndDrifting(Revision.of(spec));
    RecalibrationStatus recorded = Recalibration.due(spec, drifting, NOW).orElseThrow();

    assertThat(Recalibration.starting(recorded, Revision.of(spec))).isTrue();
    Revision.Next started =
        Revision.next(
            recalibrated,
            Revision.of(spec),
            null,
            Recalibration.starting(recorded, Revision.of(spec)));
    assertThat(started.epoch()).isEqualTo(1);
    assertThat(started.revision()).isNotEqualTo(Revision.of(spec));
    assertThat(Recalibration.starting(recorded, started.revision())).isFalse();
    assertThat(Revision.next(recalibrated, started.revision(), started.epoch(), false))
        .isEqualTo(started);
    assertThat(Recalibration.starting(recorded.ended(), Revision.of(spec))).isFalse();
  }

  @Test
  void evaluationAlreadyOnCapturedSamplesAndLabelledEvaluationAreKept() {
    SparseModelSpec captured =
        recalibrating(
                s ->
                    s.with("evaluation")
                        .put("source", "captured")
                        .remove(java.util.List.of("dataUri")))
            .getSpec();
    assertThat(Recalibration.recalibrated(captured).evaluation()).isEqualTo(captured.evaluation());

    SparseModelSpec labelled =
        recalibrating(
                s -> {
                  s.with("evaluation").put("labelsUri", "pvc://models/data/labels.txt");
                  s.with("gate").put("metric", "accuracy");
                })
            .getSpec();
    assertThat(Recalibration.recalibrated(labelled).evaluation().sets())
        .containsExactly(
            new EvaluationSet(
                "file", "pvc://models/data/evaluation.txt", "pvc://models/data/labels.txt", null));
    assertThat(SpecValidator.problems(labelled)).isEmpty();
  }

  @Test
  void withoutEvaluationDataTheCalibrationFilesTailStaysASet() {
    SparseModelSpec spec =
        recalibrating(s -> s.with("evaluation").remove(java.util.List.of("dataUri"))).getSpec();

    assertThat(Recalibration.recalibrated(spec).evaluation().sets())
        .extracting(EvaluationSet::name, EvaluationSet::dataUri)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("file", null),
            org.assertj.core.groups.Tuple.tuple("captured", null));
    assertThat(SpecValidator.problems(Recalibration.recalibrated(spec))).isEmpty();
  }

  @Test
  void aDriftingStableStartsOneRecalibration() {
    SparseModelSpec spec = recalibrating(s -> {}).getSpec();
    SparseModelStatus status = promotedAndDrifting("r1");

    RecalibrationStatus first = Recalibration.due(spec, status, NOW).orElseThrow();
    assertThat(first.count()).isEqualTo(1);
    assertThat(first.active()).isTrue();
    assertThat(first.fromRevision()).isEqualTo("r1");
    assertThat(first.startedAt()).isEqualTo("2026-12-06T10:00:00Z");
    assertThat(first.reason()).contains("below minAgreement");

    status.setRecalibration(first);
    assertThat(Recalibration.due(spec, status, NOW)).as("once per stable revision").isEmpty();

    SparseModelStatus later = promotedAndDrifting("r2");
    later.setRecalibration(first);
    assertThat(Recalibration.due(spec, later, NOW).orElseThrow().count()).isEqualTo(2);
  }

  @Test
  void noRecalibrationWithoutDriftOrWhileAnotherRevisionIsUnderWay() {
    SparseModelSpec spec = recalibrating(s -> {}).getSpec();

    SparseModelStatus watching = promotedAndDrifting("r1");
    watching.setDrift(drift("r1", false));
    assertThat(Recalibration.due(spec, watching, NOW)).isEmpty();

    SparseModelStatus underWay = promotedAndDrifting("r1");
    underWay.setRevision("r2");
    assertThat(Recalibration.due(spec, underWay, NOW)).isEmpty();

    SparseModelStatus rollingOut = promotedAndDrifting("r1");
    rollingOut.setPhase(Phase.ROLLING_OUT);
    assertThat(Recalibration.due(spec, rollingOut, NOW)).isEmpty();

    SparseModelSpec off = Fixtures.minilm().getSpec();
    assertThat(Recalibration.due(off, promotedAndDrifting("r1"), NOW)).isEmpty();
  }

  @Test
  void aRecalibrationHoldsOnlyWhileAutoRecalibrateIsOn() {
    SparseModelSpec on = recalibrating(s -> {}).getSpec();
    RecalibrationStatus second = new RecalibrationStatus(2, true, "r1", null, null);

    assertThat(Recalibration.inEffect(on, second)).isTrue();
    assertThat(Recalibration.inEffect(on, null)).isFalse();
    assertThat(Recalibration.inEffect(Fixtures.minilm().getSpec(), second)).isFalse();
    assertThat(Recalibration.settle(on, second)).isSameAs(second);

    // Off ends it; on again, the spec as written until a drift starts one, also from r1.
    SparseModelSpec off =
        Fixtures.minilm(s -> s.with("rollout").with("capture").put("enabled", true)).getSpec();
    RecalibrationStatus ended = Recalibration.settle(off, second);
    assertThat(ended.active()).isFalse();
    assertThat(ended.count()).isEqualTo(2);
    assertThat(Recalibration.settle(on, ended)).isSameAs(ended);
    assertThat(Recalibration.inEffect(on, ended)).isFalse();
    SparseModelStatus drifting = promotedAndDrifting("r1");
    drifting.setRecalibration(ended);
    assertThat(Recalibration.due(on, drifting, NOW).orElseThrow())
        .satisfies(
            r -> {
              assertThat(r.count()).isEqualTo(3);
              assertThat(r.active()).isTrue();
            });
    SparseModel model = recalibrating(s -> {});
    assertThat(Recalibration.view(model, false)).isSameAs(model);
    assertThat(Recalibration.view(model, true).getMetadata()).isSameAs(model.getMetadata());
  }

  @Test
  void whatARecalibrationCannotDoIsRefusedUpFrontNamingTheField() {
    assertThat(
            SpecValidator.problems(
                Fixtures.minilm(
                        s -> s.with("rollout").with("analysis").put("autoRecalibrate", true))
                    .getSpec()))
        .containsExactly(
            "spec.rollout.analysis.autoRecalibrate: needs spec.rollout.analysis.driftWindow: a"
                + " recalibration starts when the stable's agreement has stayed below"
                + " minAgreement that long",
            "spec.rollout.analysis.autoRecalibrate: needs spec.rollout.capture: a recalibration"
                + " calibrates on what the serving pods captured");

    // The spec's own problem once, not again under the set a recalibration would rename it to.
    assertThat(
            SpecValidator.problems(
                recalibrating(s -> s.with("gate").put("metric", "accuracy")).getSpec()))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("spec.evaluation.labelsUri: required"));

    assertThat(
            SpecValidator.problems(
                recalibrating(s -> s.with("sparsity").put("method", "magnitude")).getSpec()))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("would prune the same model"));

    assertThat(
            SpecValidator.problems(
                recalibrating(s -> s.with("sparsity").put("method", "finetune")).getSpec()))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith(
                        "spec.rollout.analysis.autoRecalibrate: a recalibration reads captured"
                            + " samples, and then spec.sparsity.calibration.source: fine-tuning")
                    .contains("captured samples cannot train yet"));

    assertThat(
            SpecValidator.problems(
                recalibrating(
                        s -> {
                          var evaluation = s.with("evaluation");
                          evaluation.remove(java.util.List.of("dataUri"));
                          var sets = evaluation.putArray("sets");
                          for (String name : java.util.List.of("a", "b", "c", "d")) {
                            sets.addObject().put("name", name).put("dataUri", "pvc://m/" + name);
                          }
                        })
                    .getSpec()))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("spec.evaluation.sets: a recalibration adds"));

    assertThat(
            SpecValidator.problems(
                recalibrating(
                        s -> {
                          var evaluation = s.with("evaluation");
                          evaluation.remove(java.util.List.of("dataUri"));
                          evaluation
                              .putArray("sets")
                              .addObject()
                              .put("name", "captured")
                              .put("dataUri", "pvc://m/x");
                        })
                    .getSpec()))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith("spec.rollout.analysis.autoRecalibrate: a recalibration reads")
                    .contains("captured names an earlier set too"));
  }

  private static SparseModelStatus promotedAndDrifting(String stable) {
    SparseModelStatus status = new SparseModelStatus();
    status.setPhase(Phase.PROMOTED);
    status.setRevision(stable);
    try {
      status.setRollout(
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readValue("{\"stableRevision\":\"" + stable + "\"}", RolloutStatus.class));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    status.setDrift(drift(stable, true));
    return status;
  }

  private static DriftStatus drift(String revision, boolean drifting) {
    return new DriftStatus(
        revision,
        "pods",
        NOW.toString(),
        1.0,
        1.0,
        0.0,
        0.6,
        100.0,
        NOW.toString(),
        drifting,
        "shadow agreement of " + revision + " with the dense model 0.6000 below minAgreement");
  }
}
