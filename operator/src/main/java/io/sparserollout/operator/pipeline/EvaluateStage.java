package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.gate.SetGate;
import io.sparserollout.stage.CapturedData;
import io.sparserollout.stage.EvaluateArgs;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.ModelTask;
import io.sparserollout.stage.VariantModel;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/** Dense against candidate on held-out data; the result is judged by the gate. */
final class EvaluateStage implements StageHandler<EvaluationResult> {
  @Override
  public Class<EvaluationResult> resultType() {
    return EvaluationResult.class;
  }

  @Override
  public EvaluateArgs command(StageContext c) {
    var evaluation = c.spec().evaluation();
    List<EvaluateArgs.HeldOutSet> named = HeldOutSets.of(c);
    EvaluateArgs.HeldOutSet only = named.isEmpty() ? HeldOutSets.only(c) : null;
    VariantModel primary = Variants.model(c, Variants.primary(c.spec()));
    String reference = Variants.denseFloat(c.spec());
    List<VariantModel> others =
        Variants.models(c).stream()
            .filter(v -> !v.name().equals(reference) && !v.name().equals(primary.name()))
            .toList();
    return new EvaluateArgs(
        Storage.path(c.spec().source().uri()),
        primary.model(),
        c.tokenizer(),
        only == null ? null : only.data(),
        evaluation.samples(),
        evaluation.topK(),
        c.maxLength(),
        only == null ? null : only.offset(),
        only == null ? null : only.labels(),
        primary.sha256(),
        others.isEmpty() ? null : others,
        c.report(Stage.EVALUATE),
        HeldOutSets.readsCaptured(c.spec()) ? CapturedData.Part.HELD_OUT.option() : null,
        named.isEmpty() ? null : named,
        task(c.spec().source()));
  }

  /** The stage contract's task for the spec's; the CRD and the stage API do not share types. */
  static ModelTask task(ModelSource source) {
    if (source == null) {
      return ModelTask.EMBEDDING;
    }
    return switch (source.taskOrDefault()) {
      case EMBEDDING -> ModelTask.EMBEDDING;
      case CLASSIFICATION -> ModelTask.CLASSIFICATION;
      case RANKING -> ModelTask.RANKING;
      case TENSOR -> ModelTask.TENSOR;
    };
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, EvaluationResult result) {
    CapturedWindows.evaluation(
        status,
        result.qualities().stream()
            .map(EvaluationResult.SetQuality::captured)
            .filter(Objects::nonNull)
            .findFirst()
            .orElse(null));
    if (status.getVariants() != null && !status.getVariants().isEmpty()) {
      VariantGate.apply(status, c, result);
      return;
    }
    GateSpec gate = c.spec().gate();
    Double speedup = status.getEngine() != null ? status.getEngine().speedup() : null;
    if (speedup == null) {
      Double dense = throughput(result.dense());
      Double candidate = throughput(result.candidate());
      speedup =
          dense != null && candidate != null && dense > 0
              ? Math.round(candidate / dense * 1000) / 1000.0
              : null;
    }
    List<SetGate.SetValue> values =
        result.qualities().stream()
            .map(
                q -> {
                  Double[] v = metric(gate.metric(), q);
                  return new SetGate.SetValue(q.name(), q.samples(), v[0], v[1]);
                })
            .toList();
    status.setGate(
        SetGate.judge(
            gate,
            metricName(gate),
            values,
            speedup,
            c.storage().artifactUri(StageContext.reportName(Stage.EVALUATE))));
  }

  static String metricName(GateSpec gate) {
    return gate.metric().name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * Dense and candidate values of the gate's metric on one held-out set; null where the result has
   * no finite number.
   */
  static Double[] metric(GateSpec.Metric metric, EvaluationResult.SetQuality result) {
    EvaluationResult.Fidelity fidelity = result.fidelity();
    return switch (metric) {
      case COSINE_FIDELITY ->
          new Double[] {1.0, fidelity == null ? null : finite(fidelity.cosineMean())};
      case TOP1_AGREEMENT ->
          new Double[] {1.0, fidelity == null ? null : finite(fidelity.top1Agreement())};
      case TOPK_AGREEMENT ->
          new Double[] {1.0, fidelity == null ? null : finite(fidelity.top5Overlap())};
      case ACCURACY -> task(result, EvaluationResult.Scores::accuracy);
      case NDCG -> task(result, EvaluationResult.Scores::ndcg);
      case PNR -> task(result, EvaluationResult.Scores::pnr);
    };
  }

  private static Double[] task(
      EvaluationResult.SetQuality result, Function<EvaluationResult.Scores, Double> score) {
    EvaluationResult.Task task = result.task();
    return task == null
        ? new Double[] {null, null}
        : new Double[] {score(task.dense(), score), score(task.candidate(), score)};
  }

  static Double score(
      EvaluationResult.Scores scores, Function<EvaluationResult.Scores, Double> score) {
    return scores == null ? null : finite(score.apply(scores));
  }

  private static Double throughput(EvaluationResult.Performance performance) {
    return performance == null ? null : finite(performance.sentencesPerSecond());
  }

  /** A finite number, or null: a missing field must not read as 0 and pass a gate. */
  static Double finite(Double value) {
    return value != null && Double.isFinite(value) ? value : null;
  }
}
