package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.gate.Gate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Dense against candidate on held-out data; the result is judged by the gate. */
final class EvaluateStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    var evaluation = c.spec().evaluation();
    boolean ownData = evaluation.dataUri() != null;
    List<String> args =
        new ArrayList<>(
            List.of(
                "evaluate",
                "--dense",
                Storage.path(c.spec().source().uri()),
                "--candidate",
                c.storage().artifact(c.inputOf(Stage.EVALUATE)),
                "--tokenizer",
                c.tokenizer(),
                "--data",
                ownData ? Storage.path(evaluation.dataUri()) : c.calibration(),
                "--samples",
                evaluation.samples().toString(),
                "--top-k",
                evaluation.topK().toString(),
                "--max-length",
                c.maxLength()));
    if (!ownData) {
      // Held out: the sentences after those calibration used.
      args.addAll(List.of("--offset", c.spec().sparsity().calibration().samples().toString()));
    }
    if (evaluation.labelsUri() != null) {
      args.addAll(List.of("--labels", Storage.path(evaluation.labelsUri())));
    }
    args.addAll(c.reportArgs(Stage.EVALUATE));
    return args;
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, JsonNode result) {
    GateSpec gate = c.spec().gate();
    Double[] values = metric(gate.metric(), result);
    Double speedup = status.getEngine() != null ? status.getEngine().speedup() : null;
    if (speedup == null) {
      Double dense = number(result.path("dense").path("sentencesPerSecond"));
      Double candidate = number(result.path("candidate").path("sentencesPerSecond"));
      speedup =
          dense != null && candidate != null && dense > 0
              ? Math.round(candidate / dense * 1000) / 1000.0
              : null;
    }
    status.setGate(
        Gate.judge(
            gate,
            gate.metric().name().toLowerCase(Locale.ROOT).replace('_', '-'),
            values[0],
            values[1],
            speedup,
            c.storage().artifactUri(StageContext.reportName(Stage.EVALUATE))));
  }

  /** Dense and sparse values of the gate's metric; null where the result has no finite number. */
  private static Double[] metric(GateSpec.Metric metric, JsonNode result) {
    JsonNode fidelity = result.path("fidelity");
    JsonNode task = result.path("task");
    String field =
        switch (metric) {
          case COSINE_FIDELITY -> "cosineMean";
          case TOPK_AGREEMENT -> "top5Overlap";
          case ACCURACY -> "accuracy";
          case NDCG -> "ndcg";
          case PNR -> "pnr";
        };
    return metric == GateSpec.Metric.COSINE_FIDELITY || metric == GateSpec.Metric.TOPK_AGREEMENT
        ? new Double[] {1.0, number(fidelity.path(field))}
        : new Double[] {
          number(task.path("dense").path(field)), number(task.path("candidate").path(field))
        };
  }

  /** A finite number, or null: a missing field must not read as 0 and pass a gate. */
  private static Double number(JsonNode node) {
    return node.isNumber() && Double.isFinite(node.asDouble()) ? node.asDouble() : null;
  }
}
