package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.VariantStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.EvaluationResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine stage's timings and the evaluation's quality meet in status.variants. */
class VariantGateTest {
  private final SparseModel model =
      Fixtures.minilm(s -> s.with("quantization").put("mode", "int8-ptq"));
  private final StageContext context = StageContext.of(model, "r1");

  @Test
  void theFastestPassingVariantIsServedAndEveryVariantShowsItsNumbers() {
    SparseModelStatus status = new SparseModelStatus();
    new BuildEngineStage().apply(status, context, engine());
    assertThat(status.getEngine().variant()).isEqualTo("sparse-int8");

    new EvaluateStage().apply(status, context, evaluation(0.904, 0.9905, 0.905));

    assertThat(status.getVariants())
        .extracting(
            VariantStatus::name,
            VariantStatus::speedup,
            VariantStatus::metric,
            VariantStatus::passed,
            VariantStatus::chosen)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("dense-fp32", 1.0, 1.0, true, false),
            org.assertj.core.groups.Tuple.tuple("dense-int8", 1.7, 0.9905, true, true),
            org.assertj.core.groups.Tuple.tuple("sparse-fp32", 1.01, 0.905, true, false),
            org.assertj.core.groups.Tuple.tuple("sparse-int8", 1.72, 0.904, true, false));
    // Every repetition says 1.7x, the slow one too: the interval is that point.
    assertThat(status.getVariants().get(1))
        .extracting(VariantStatus::speedupLow, VariantStatus::speedupHigh)
        .containsExactly(1.7, 1.7);
    var engine = status.getEngine();
    assertThat(engine.variant()).isEqualTo("dense-int8");
    assertThat(engine.artifactUri()).endsWith("/engine/dense-int8");
    assertThat(engine.sha256()).isEqualTo("2".repeat(64));
    assertThat(engine.precision()).isEqualTo("int8");
    assertThat(engine.speedup()).isEqualTo(1.7);
    assertThat(engine.sparseLayers()).isZero();
    assertThat(status.getGate().verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(status.getGate().sparse()).isEqualTo(0.9905);
    assertThat(status.getGate().message()).startsWith("variant dense-int8 (best cosine-fidelity");
  }

  @Test
  void withRequireSparseAFailingSparseModelFailsTheGateAsBefore() {
    SparseModel strict =
        Fixtures.minilm(
            s -> {
              s.with("quantization").put("mode", "int8-ptq");
              s.with("selection").put("requireSparse", true);
            });
    StageContext c = StageContext.of(strict, "r1");
    SparseModelStatus status = new SparseModelStatus();
    new BuildEngineStage().apply(status, c, engine());

    new EvaluateStage().apply(status, c, evaluation(0.6, 0.99, 0.7));

    assertThat(status.getGate().verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(status.getGate().message())
        .startsWith("no candidate variant passes the gate (status.variants); sparse-int8:")
        .contains("absolute drop 0.4000 > allowed 0.1000");
    assertThat(status.getVariants()).extracting(VariantStatus::chosen).containsOnly(false);
  }

  @Test
  void aVariantTheEvaluationDidNotReportFailsClosed() {
    SparseModelStatus status = new SparseModelStatus();
    new BuildEngineStage().apply(status, context, engine());
    EvaluationResult partial = evaluation(0.904, 0.99, 0.905);
    partial =
        new EvaluationResult(
            partial.samples(), partial.fidelity(), null, null, null, List.of(), null);

    new EvaluateStage().apply(status, context, partial);

    assertThat(status.getVariants())
        .filteredOn(v -> v.name().equals("dense-int8"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.passed()).isFalse();
              assertThat(v.reason()).contains("no finite cosine-fidelity for the candidate");
            });
    assertThat(status.getEngine().variant()).isEqualTo("sparse-int8");
  }

  static EngineResult engine() {
    return new EngineResult(
        "onnxruntime",
        "int8",
        "1.23",
        null,
        null,
        36,
        "/x",
        8,
        128,
        80.0,
        46.5,
        1.72,
        "4".repeat(64),
        List.of(
            variant("dense-fp32", 1, 0, 100),
            variant("dense-int8", 2, 0, 170),
            variant("sparse-fp32", 3, 36, 101),
            variant("sparse-int8", 4, 36, 172)));
  }

  private static EngineResult.VariantEngine variant(String name, int sha, int layers, double rate) {
    return new EngineResult.VariantEngine(
        name,
        String.valueOf(sha).repeat(64),
        layers,
        List.of(
            // Repetition 4 ran in a slow moment of the node, for every variant alike.
            new EngineResult.Timing(
                8, 128, 30, 8000 / rate, 9000 / rate, rate, 0.04, repetitions(rate)),
            new EngineResult.Timing(
                32, 128, 30, 32000 / rate, 33000 / rate, rate, 0.05, repetitions(rate))));
  }

  private static List<Double> repetitions(double rate) {
    return java.util.stream.DoubleStream.of(1, 0.98, 1.02, 0.6, 1)
        .map(f -> f * rate)
        .boxed()
        .toList();
  }

  private static EvaluationResult evaluation(
      double sparseInt8, double denseInt8, double sparseFp32) {
    return new EvaluationResult(
        300,
        new EvaluationResult.Fidelity(sparseInt8, null, null, null, 0.6),
        null,
        null,
        null,
        List.of(
            new EvaluationResult.VariantQuality(
                "dense-int8",
                new EvaluationResult.Fidelity(denseInt8, null, null, null, 0.9),
                null),
            new EvaluationResult.VariantQuality(
                "sparse-fp32",
                new EvaluationResult.Fidelity(sparseFp32, null, null, null, 0.66),
                null)),
        null);
  }
}
