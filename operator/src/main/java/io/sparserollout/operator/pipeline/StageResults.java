package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.gate.Gate;
import java.util.ArrayList;
import java.util.List;

/** Copies a stage's JSON result (its container's termination message) into status. */
public final class StageResults {
  private StageResults() {}

  public static void apply(
      SparseModelStatus status, SparseModel model, Storage storage, Stage stage, JsonNode result) {
    switch (stage) {
      case PRUNE -> {
        List<PruningStatus.SkippedLayer> skipped = new ArrayList<>();
        result
            .path("layersSkipped")
            .forEach(
                s ->
                    skipped.add(
                        new PruningStatus.SkippedLayer(
                            s.path("weight").asText(), s.path("reason").asText())));
        status.setPruning(
            new PruningStatus(
                result.path("method").asText(),
                result.path("layersPruned").asInt(),
                skipped,
                result.path("achievedSparsity").asDouble(),
                storage.artifactUri(StageCommands.PRUNED)));
      }
      case FINETUNE, QUANTIZE -> {
        PruningStatus p = status.getPruning();
        String artifact =
            stage == Stage.FINETUNE ? StageCommands.FINETUNED : StageCommands.QUANTIZED;
        if (p != null) {
          status.setPruning(
              new PruningStatus(
                  p.method(),
                  p.layersPruned(),
                  p.layersSkipped(),
                  p.achievedSparsity(),
                  storage.artifactUri(artifact)));
        }
      }
      case BUILD_ENGINE ->
          status.setEngine(
              new EngineStatus(
                  text(result, "backend"),
                  text(result, "precision"),
                  text(result, "tensorrtVersion"),
                  text(result, "gpuProduct"),
                  result.has("sparseLayers") ? result.get("sparseLayers").asInt() : null,
                  result.has("speedup") ? round(result.get("speedup").asDouble()) : null,
                  storage.artifactUri(StageCommands.ENGINE)));
      case EVALUATE -> {
        GateSpec gate = model.getSpec().gate();
        double[] values = metric(gate.metric(), result);
        Double speedup = status.getEngine() != null ? status.getEngine().speedup() : null;
        if (speedup == null && result.has("dense") && result.has("candidate")) {
          double dense = result.path("dense").path("sentencesPerSecond").asDouble();
          double candidate = result.path("candidate").path("sentencesPerSecond").asDouble();
          speedup = dense > 0 ? round(candidate / dense) : null;
        }
        status.setGate(
            Gate.judge(
                gate,
                metricName(gate.metric()),
                values[0],
                values[1],
                speedup,
                storage.artifactUri(StageCommands.REPORTS + Stage.EVALUATE.jobSuffix() + ".json")));
      }
    }
  }

  /** Dense and sparse values of the gate's metric. */
  private static double[] metric(GateSpec.Metric metric, JsonNode result) {
    JsonNode fidelity = result.path("fidelity");
    JsonNode task = result.path("task");
    return switch (metric) {
      case COSINE_FIDELITY -> new double[] {1.0, fidelity.path("cosineMean").asDouble()};
      case TOPK_AGREEMENT -> new double[] {1.0, fidelity.path("top5Overlap").asDouble()};
      case ACCURACY, NDCG, PNR -> {
        String field =
            metric == GateSpec.Metric.ACCURACY
                ? "accuracy"
                : metric == GateSpec.Metric.NDCG ? "ndcg" : "pnr";
        yield new double[] {
          task.path("dense").path(field).asDouble(), task.path("candidate").path(field).asDouble()
        };
      }
    };
  }

  private static String metricName(GateSpec.Metric metric) {
    return metric.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  private static String text(JsonNode node, String field) {
    return node.hasNonNull(field) ? node.get(field).asText() : null;
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
