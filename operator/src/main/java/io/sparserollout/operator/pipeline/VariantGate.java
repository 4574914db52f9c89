package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.VariantStatus;
import io.sparserollout.operator.gate.Gate;
import io.sparserollout.operator.gate.SetGate;
import io.sparserollout.operator.gate.VariantSelection;
import io.sparserollout.stage.EvaluationResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gate over measured variants: each variant is judged on the gate metric against dense, the
 * selection picks the one served, and status.gate and status.engine then describe that one.
 */
final class VariantGate {
  private VariantGate() {}

  static void apply(SparseModelStatus status, StageContext c, EvaluationResult result) {
    GateSpec gate = c.spec().gate();
    String metric = EvaluateStage.metricName(gate);
    String report = c.storage().artifactUri(StageContext.reportName(Stage.EVALUATE));
    String primary = Variants.primary(c.spec());
    List<VariantStatus> judged = new ArrayList<>();
    Map<String, GateStatus> verdicts = new HashMap<>();
    for (VariantStatus v : status.getVariants()) {
      List<SetGate.SetValue> values = new ArrayList<>();
      for (EvaluationResult.SetQuality set : result.qualities()) {
        Double dense = EvaluateStage.metric(gate.metric(), set)[0];
        values.add(
            new SetGate.SetValue(
                set.name(),
                set.samples(),
                dense,
                value(gate.metric(), set, v.name(), primary, c, dense)));
      }
      GateStatus verdict = SetGate.judge(gate, metric, values, v.speedup(), report);
      verdicts.put(v.name(), verdict);
      // Ranked on the sets' mean: each variant's verdict may turn on another set.
      GateStatus quality = SetGate.mean(gate, metric, values);
      judged.add(
          v.withQuality(
                  quality.sparse(), quality.drop(), verdict.verdict() == GateStatus.Verdict.PASSED)
              .withChoice(false, verdict.message()));
    }
    int sets = result.qualities().size();
    VariantSelection.Choice choice =
        VariantSelection.choose(
            Variants.selection(c.spec()),
            sets > 1 ? "mean " + metric + " of " + sets + " sets" : metric,
            judged,
            Variants.candidates(c.spec()));
    status.setVariants(choice.variants());
    if (choice.chosen().isEmpty()) {
      GateStatus p =
          verdicts.getOrDefault(
              primary,
              Gate.judge(
                  gate,
                  metric,
                  EvaluateStage.metric(gate.metric(), result.qualities().get(0))[0],
                  null,
                  null,
                  report));
      status.setGate(
          p.withVerdict(
              GateStatus.Verdict.FAILED,
              "no candidate variant passes the gate (status.variants); "
                  + primary
                  + ": "
                  + p.message()));
      return;
    }
    VariantStatus chosen = choice.chosen().get();
    // The verdict it was chosen on: judging its rounded metric again could differ at the limit.
    GateStatus verdict = verdicts.get(chosen.name());
    status.setGate(
        verdict.withVerdict(
            verdict.verdict(),
            "variant " + chosen.name() + " (" + chosen.reason() + "): " + verdict.message()));
    EngineStatus built = status.getEngine();
    status.setEngine(
        new EngineStatus(
            built == null ? null : built.backend(),
            chosen.precision(),
            built == null ? null : built.tensorrtVersion(),
            built == null ? null : built.gpuProduct(),
            chosen.sparseLayers(),
            chosen.speedup(),
            chosen.artifactUri(),
            chosen.sha256(),
            chosen.name(),
            built == null ? null : built.otherProducts()));
  }

  /**
   * The variant's gate metric on one set: dense float is the reference itself, the primary is the
   * set's candidate.
   */
  private static Double value(
      GateSpec.Metric metric,
      EvaluationResult.SetQuality result,
      String name,
      String primary,
      StageContext c,
      Double dense) {
    if (name.equals(Variants.denseFloat(c.spec()))) {
      return dense;
    }
    if (name.equals(primary)) {
      return EvaluateStage.metric(metric, result)[1];
    }
    if (result.variants() == null) {
      return null;
    }
    return result.variants().stream()
        .filter(q -> name.equals(q.name()))
        .findFirst()
        .map(q -> value(metric, q))
        .orElse(null);
  }

  private static Double value(GateSpec.Metric metric, EvaluationResult.VariantQuality q) {
    EvaluationResult.Fidelity f = q.fidelity();
    EvaluationResult.Scores s = q.scores();
    return EvaluateStage.finite(
        switch (metric) {
          case COSINE_FIDELITY -> f == null ? null : f.cosineMean();
          case TOP1_AGREEMENT -> f == null ? null : f.top1Agreement();
          case TOPK_AGREEMENT -> f == null ? null : f.top5Overlap();
          case ACCURACY -> s == null ? null : s.accuracy();
          case NDCG -> s == null ? null : s.ndcg();
          case PNR -> s == null ? null : s.pnr();
        });
  }
}
