package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.api.v1alpha1.DataSource;
import io.sparserollout.api.v1alpha1.DriftStatus;
import io.sparserollout.api.v1alpha1.EvaluationSpec;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.RecalibrationStatus;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/**
 * spec.rollout.analysis.autoRecalibrate: when a drifting stable starts a recalibration, what the
 * recalibrated pipeline reads, and what the spec may not ask of it. The operator never writes spec,
 * so a recalibration is the spec as written read through {@link #recalibrated}; as it reads
 * captured samples, its revision takes a new capture epoch (Revision.next).
 */
public final class Recalibration {
  /** The set a recalibration adds: the captured held-out half. */
  public static final String CAPTURED_SET = "captured";

  /** The set a single-file evaluation becomes beside it. */
  public static final String FILE_SET = "file";

  private static final String FIELD = "spec.rollout.analysis.autoRecalibrate";
  private static final int MOST_SETS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Recalibration() {}

  /** Whether the pipeline reads the spec recalibrated: a recalibration in force, and still on. */
  public static boolean inEffect(SparseModelSpec spec, RecalibrationStatus recalibration) {
    return spec.rollout().analysis().recalibratesOnDrift()
        && recalibration != null
        && recalibration.inForce();
  }

  /**
   * The recalibration record brought up to the spec, before the revision is computed: turning
   * autoRecalibrate off ends the recalibration, and the spec as written is read again.
   */
  public static RecalibrationStatus settle(
      SparseModelSpec spec, RecalibrationStatus recalibration) {
    if (recalibration != null
        && recalibration.inForce()
        && !spec.rollout().analysis().recalibratesOnDrift()) {
      return recalibration.ended();
    }
    return recalibration;
  }

  /**
   * Whether a recalibration is recorded and its revision not yet started: the revision is still the
   * stable it came from. Its spec may read as the stable's did (a second recalibration, or a spec
   * already on captured samples), so its start must not depend on the name changing.
   */
  public static boolean starting(RecalibrationStatus recalibration, String revision) {
    return recalibration != null
        && recalibration.inForce()
        && revision != null
        && revision.equals(recalibration.fromRevision());
  }

  /** The model as its pipeline reads it: itself, or its spec recalibrated. */
  public static SparseModel view(SparseModel model, boolean recalibrated) {
    if (!recalibrated) {
      return model;
    }
    SparseModel view = new SparseModel();
    view.setMetadata(model.getMetadata());
    view.setSpec(recalibrated(model.getSpec()));
    view.setStatus(model.getStatus());
    return view;
  }

  /**
   * The spec a recalibration runs: calibrated on captured samples (a file calibration becomes
   * mixed, keeping half from the file so the domain it was calibrated for is not dropped), and with
   * a fidelity gate metric also judged on the captured held-out half, as the set {@value
   * #CAPTURED_SET} beside the spec's own data. Labels, which captured samples lack, keep a task
   * metric's evaluation as written. autoRecalibrate itself is off in it.
   */
  static SparseModelSpec recalibrated(SparseModelSpec spec) {
    ObjectNode tree = withoutRecalibrationTree(spec);
    if (!spec.sparsity().calibration().captured()) {
      tree.with("sparsity").with("calibration").put("source", json(DataSource.MIXED));
    }
    ObjectNode evaluation = tree.with("evaluation");
    if (!HeldOutSets.readsCaptured(spec)) {
      if (!spec.evaluation().hasSets()) {
        asOneSet(evaluation, spec.evaluation());
      }
      if (!taskMetric(spec)) {
        evaluation
            .withArray("sets")
            .addObject()
            .put("name", CAPTURED_SET)
            .put("source", json(DataSource.CAPTURED));
      }
    }
    return toSpec(tree);
  }

  /**
   * The one file evaluation as the set {@value #FILE_SET}: once calibration is mixed, evaluation
   * without data of its own would read the captured half instead of the calibration file's tail.
   */
  private static void asOneSet(ObjectNode evaluation, EvaluationSpec spec) {
    ObjectNode set = JSON.createObjectNode().put("name", FILE_SET);
    if (spec.dataUri() != null) {
      set.put("dataUri", spec.dataUri());
    }
    if (spec.labelsUri() != null) {
      set.put("labelsUri", spec.labelsUri());
    }
    evaluation.remove(List.of("dataUri", "labelsUri", "source"));
    ArrayNode sets = evaluation.putArray("sets");
    sets.add(set);
  }

  /**
   * The recalibration a drifting stable starts now: once the promoted revision, still the spec's,
   * has drifted, and none started from it before.
   */
  public static Optional<RecalibrationStatus> due(
      SparseModelSpec spec, SparseModelStatus status, Instant now) {
    DriftStatus drift = status.getDrift();
    RolloutStatus rollout = status.getRollout();
    if (!spec.rollout().analysis().recalibratesOnDrift()
        || status.getPhase() != Phase.PROMOTED
        || drift == null
        || !Boolean.TRUE.equals(drift.drifting())
        || rollout == null
        || rollout.stableRevision() == null) {
      return Optional.empty();
    }
    String stable = rollout.stableRevision();
    RecalibrationStatus last = status.getRecalibration();
    if (!stable.equals(drift.revision())
        || !stable.equals(status.getRevision())
        || (last != null && stable.equals(last.fromRevision()))) {
      return Optional.empty();
    }
    int count = last == null || last.count() == null ? 1 : last.count() + 1;
    return Optional.of(
        new RecalibrationStatus(
            count,
            true,
            stable,
            now.truncatedTo(ChronoUnit.SECONDS).toString(),
            SparseModelStatus.capped(drift.message())));
  }

  /** What autoRecalibrate asks that cannot be done, naming the field. */
  static void problems(SparseModelSpec spec, List<String> problems) {
    if (!spec.rollout().analysis().recalibratesOnDrift()) {
      return;
    }
    if (spec.rollout().analysis().driftWindow() == null) {
      problems.add(
          FIELD
              + ": needs spec.rollout.analysis.driftWindow: a recalibration starts when the"
              + " stable's agreement has stayed below minAgreement that long");
    }
    if (spec.rollout().capture() == null) {
      problems.add(
          FIELD
              + ": needs spec.rollout.capture: a recalibration calibrates on what the serving pods"
              + " captured");
      return;
    }
    if (spec.source().taskOrDefault() == io.sparserollout.api.v1alpha1.ModelSource.Task.RANKING) {
      problems.add(
          FIELD
              + ": a ranker (spec.source.task ranking) is not recalibrated: the recalibrated"
              + " revision is judged on captured requests, which do not say which query each pair"
              + " belongs to");
      return;
    }
    if (spec.sparsity().method() == SparsitySpec.Method.MAGNITUDE
        && spec.quantization().mode() == QuantizationSpec.Mode.NONE) {
      problems.add(
          FIELD
              + ": method magnitude without int8 quantization reads no calibration samples, so a"
              + " recalibration would prune the same model");
      return;
    }
    SparseModelSpec recalibrated = recalibrated(spec);
    if (recalibrated.evaluation().hasSets()
        && recalibrated.evaluation().sets().size() > MOST_SETS) {
      problems.add(
          "spec.evaluation.sets: a recalibration adds the captured held-out half as a fifth set,"
              + " and at most "
              + MOST_SETS
              + " fit: drop one, or make one source captured");
      return;
    }
    // Only once the spec as written is valid: its own problems would come back under the fields
    // the recalibration renames.
    if (!SpecValidator.problems(withoutRecalibration(spec)).isEmpty()) {
      return;
    }
    for (String problem : SpecValidator.problems(recalibrated)) {
      problems.add(FIELD + ": a recalibration reads captured samples, and then " + problem);
    }
  }

  private static SparseModelSpec withoutRecalibration(SparseModelSpec spec) {
    return toSpec(withoutRecalibrationTree(spec));
  }

  /** The spec as a tree, autoRecalibrate off: validating it cannot recurse into this class. */
  private static ObjectNode withoutRecalibrationTree(SparseModelSpec spec) {
    ObjectNode tree = JSON.valueToTree(spec);
    tree.with("rollout").with("analysis").put("autoRecalibrate", false);
    return tree;
  }

  private static SparseModelSpec toSpec(ObjectNode tree) {
    try {
      return JSON.treeToValue(tree, SparseModelSpec.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean taskMetric(SparseModelSpec spec) {
    GateSpec.Metric metric = spec.gate().metric();
    return metric == GateSpec.Metric.ACCURACY
        || metric == GateSpec.Metric.NDCG
        || metric == GateSpec.Metric.PNR;
  }

  private static String json(Enum<?> value) {
    return JSON.valueToTree(value).asText();
  }
}
