package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The pipeline revision of a spec: a short hash of everything that changes the produced model.
 * Rollout settings are left out, so changing replicas or canary steps re-serves, not re-prunes.
 */
public final class Revision {
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  /**
   * Store fields that say how the store is reached, not what is in it, added after revisions were
   * first computed: left out, so they neither start a new pipeline nor change existing revisions.
   */
  private static final List<String> ACCESS_ONLY =
      List.of("serviceAccountName", "region", "allowInsecureHttp");

  private Revision() {}

  public static String of(SparseModelSpec spec) {
    return of(spec, 0);
  }

  /** The revision to run, and the capture epoch it took. */
  public record Next(String revision, int epoch) {}

  /**
   * The revision of a spec as the pipeline reads it, given the current one and the capture epoch in
   * status. A spec that reads captured samples is built on whatever was captured when its revision
   * starts, so its pipeline is never run again under an earlier revision's name: each start after
   * the model's first takes the next epoch, which is part of the name. Else a revert to the
   * stable's spec would rebuild the stable on newer samples and swap it into its pods with no gate
   * or canary between. Specs that read files only keep the name of their settings.
   */
  public static Next next(SparseModelSpec spec, String current, Integer epoch) {
    return next(spec, current, epoch, false);
  }

  /**
   * As {@link #next(SparseModelSpec, String, Integer)}, and with {@code fresh} (a recalibration
   * recorded whose revision has not started: Recalibration.starting) the next epoch also where the
   * name would not change: the same spec on the samples of now is a new model.
   */
  public static Next next(SparseModelSpec spec, String current, Integer epoch, boolean fresh) {
    int now = epoch == null ? 0 : epoch;
    if (!readsCaptured(spec)) {
      return new Next(of(spec), now);
    }
    String same = of(spec, now);
    if (current == null || (same.equals(current) && !fresh)) {
      return new Next(same, now);
    }
    return new Next(of(spec, now + 1), now + 1);
  }

  /** The revision of a spec in a capture epoch (next); epoch 0 is the spec's own. */
  static String of(SparseModelSpec spec, int epoch) {
    ObjectNode tree = pipelineTree(spec);
    if (epoch > 0) {
      tree.put("captureEpoch", epoch);
    }
    ((ObjectNode) tree.get("artifactStore")).remove(ACCESS_ONLY);
    return HexFormat.of().formatHex(sha256(tree), 0, 5);
  }

  /**
   * Everything of the spec that shapes the artifacts or how they are read, access fields included,
   * as canonical JSON: what two models must share for one to take the other's artifacts.
   */
  public static String pipelineJson(SparseModelSpec spec) {
    try {
      return CANONICAL.writeValueAsString(pipelineTree(spec));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode pipelineTree(SparseModelSpec spec) {
    SparseModelSpec pipelineOnly =
        new SparseModelSpec(
            spec.source(),
            spec.artifactStore(),
            spec.sparsity(),
            spec.quantization(),
            spec.fineTuning(),
            spec.engine(),
            spec.evaluation(),
            spec.gate(),
            spec.selection(),
            null);
    ObjectNode tree = CANONICAL.valueToTree(pipelineOnly);
    // Selection at its defaults (or absent) is left out: revisions computed before selection
    // existed stay as they were, so an operator upgrade re-runs no finished pipeline. The default
    // serves the fastest variant that passes, where the operator before served the sparse one.
    if (Variants.DEFAULT_SELECTION.equals(Variants.selection(spec))) {
      tree.remove("selection");
    }
    // One worker (the default, or absent) is left out for the same reason; more workers start a
    // new revision, as any change to fine-tuning does.
    if (spec.fineTuning() != null
        && spec.fineTuning().workerCount() == 1
        && tree.get("fineTuning") instanceof ObjectNode tuning) {
      tuning.remove("workers");
    }
    // Fine-tuning by the operator's own Jobs (no trainJob) is left out for the same reason; a
    // TrainJob starts a new revision, so one revision's workers are launched one way only.
    if (tree.get("fineTuning") instanceof ObjectNode tuning
        && spec.fineTuning().trainJob() == null) {
      tuning.remove("trainJob");
    }
    // The embedding task, the default, is left out for the same reason.
    if (spec.source() != null
        && spec.source().taskOrDefault() == ModelSource.Task.EMBEDDING
        && tree.get("source") instanceof ObjectNode source) {
      source.remove("task");
    }
    // Files, the default, are left out too; captured samples start a new revision.
    if (spec.sparsity() != null
        && spec.sparsity().calibration() != null
        && !spec.sparsity().calibration().captured()
        && tree.path("sparsity").get("calibration") instanceof ObjectNode calibration) {
      calibration.remove("source");
    }
    if (spec.evaluation() != null
        && !spec.evaluation().captured()
        && tree.get("evaluation") instanceof ObjectNode evaluation) {
      evaluation.remove("source");
    }
    // Named sets and how the gate combines them, absent or at the default, are left out too.
    if (tree.get("evaluation") instanceof ObjectNode evaluation
        && (spec.evaluation() == null || !spec.evaluation().hasSets())) {
      evaluation.remove("sets");
    }
    // perSet says nothing without sets.
    if (tree.get("gate") instanceof ObjectNode gate
        && (spec.gate() == null
            || spec.gate().perSetOrDefault() == GateSpec.PerSet.ALL
            || spec.evaluation() == null
            || !spec.evaluation().hasSets())) {
      gate.remove("perSet");
    }
    return tree;
  }

  /**
   * Whether a stage reads what this model's own pods captured: its artifacts then fit no other
   * model, whatever their settings.
   */
  public static boolean readsCaptured(SparseModelSpec spec) {
    return (spec.sparsity() != null
            && spec.sparsity().calibration() != null
            && spec.sparsity().calibration().captured())
        || (spec.evaluation() != null && spec.evaluation().readsCaptured());
  }

  private static byte[] sha256(ObjectNode tree) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest(CANONICAL.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
