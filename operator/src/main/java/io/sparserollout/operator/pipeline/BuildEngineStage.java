package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The serving engine: TensorRT on the chosen GPU product, or ONNX Runtime on CPU. */
final class BuildEngineStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    var engine = c.spec().engine();
    var shapes = engine.shapes();
    List<String> args =
        new ArrayList<>(
            List.of(
                "build-engine",
                "--backend",
                engine.backend().name().toLowerCase(Locale.ROOT),
                "--precision",
                engine.precision().name().toLowerCase(Locale.ROOT),
                "--model",
                c.storage().artifact(c.inputOf(Stage.BUILD_ENGINE)),
                "--dense",
                Storage.path(c.spec().source().uri()),
                "--out",
                c.storage().artifact(StageContext.ENGINE),
                "--batch",
                shapes.minBatch() + "," + shapes.optBatch() + "," + shapes.maxBatch(),
                "--sequence",
                shapes.minSequence() + "," + shapes.optSequence() + "," + shapes.maxSequence()));
    args.addAll(c.reportArgs(Stage.BUILD_ENGINE));
    return args;
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, JsonNode result) {
    status.setEngine(
        new EngineStatus(
            text(result, "backend"),
            text(result, "precision"),
            text(result, "tensorrtVersion"),
            text(result, "gpuProduct"),
            result.has("sparseLayers") ? result.get("sparseLayers").asInt() : null,
            result.has("speedup")
                ? Math.round(result.get("speedup").asDouble() * 1000) / 1000.0
                : null,
            c.storage().artifactUri(StageContext.ENGINE)));
  }

  private static String text(JsonNode node, String field) {
    return node.hasNonNull(field) ? node.get(field).asText() : null;
  }
}
