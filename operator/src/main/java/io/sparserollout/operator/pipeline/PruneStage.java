package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparserollout.api.v1alpha1.PruningStatus;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.util.ArrayList;
import java.util.List;

/** 2:4 pruning; {@code finetune} starts from SparseGPT masks, the best one-shot initialisation. */
final class PruneStage implements StageHandler {
  @Override
  public List<String> args(StageContext c) {
    boolean magnitude = c.spec().sparsity().method() == SparsitySpec.Method.MAGNITUDE;
    List<String> args =
        new ArrayList<>(
            List.of(
                "prune",
                "--method",
                magnitude ? "magnitude" : "sparsegpt",
                "--model",
                Storage.path(c.spec().source().uri()),
                "--out",
                c.storage().artifact(StageContext.PRUNED),
                "--max-length",
                c.maxLength()));
    if (!magnitude) {
      args.addAll(
          List.of(
              "--tokenizer", c.tokenizer(),
              "--calibration", c.calibration(),
              "--samples", c.spec().sparsity().calibration().samples().toString()));
    }
    addList(args, "--include", c.spec().sparsity().layers().include());
    addList(args, "--exclude", c.spec().sparsity().layers().exclude());
    args.addAll(c.reportArgs(Stage.PRUNE));
    return args;
  }

  @Override
  public void apply(SparseModelStatus status, StageContext c, JsonNode result) {
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
            c.storage().artifactUri(StageContext.PRUNED)));
  }

  /** {@code option a,b,c} when there are values. */
  static void addList(List<String> args, String option, List<String> values) {
    if (values != null && !values.isEmpty()) {
      args.add(option);
      args.add(String.join(",", values));
    }
  }
}
