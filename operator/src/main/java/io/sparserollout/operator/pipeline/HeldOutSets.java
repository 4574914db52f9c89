package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.DataSource;
import io.sparserollout.api.v1alpha1.EvaluationSet;
import io.sparserollout.api.v1alpha1.EvaluationSpec;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.stage.EvaluateArgs;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** spec.evaluation.sets: what each named set reads, and what the spec may not ask of them. */
final class HeldOutSets {
  private HeldOutSets() {}

  /** Each named set as sparsify reads it; empty without named sets. */
  static List<EvaluateArgs.HeldOutSet> of(StageContext c) {
    EvaluationSpec evaluation = c.spec().evaluation();
    if (!evaluation.hasSets()) {
      return List.of();
    }
    return evaluation.sets().stream().map(set -> resolve(set, c)).toList();
  }

  /** The one unnamed set of an evaluation without named sets. */
  static EvaluateArgs.HeldOutSet only(StageContext c) {
    EvaluationSpec evaluation = c.spec().evaluation();
    String labels = evaluation.labelsUri() == null ? null : Storage.path(evaluation.labelsUri());
    if (readsCaptured(c.spec())) {
      return new EvaluateArgs.HeldOutSet(
          null, Storage.path(Storage.captureUri(c.model())), labels, null);
    }
    if (evaluation.dataUri() != null) {
      return new EvaluateArgs.HeldOutSet(null, Storage.path(evaluation.dataUri()), labels, null);
    }
    // Held out: the sentences after those calibration used.
    return new EvaluateArgs.HeldOutSet(
        null, c.calibration(), labels, c.spec().sparsity().calibration().samples());
  }

  /**
   * Whether evaluation reads captured samples: a captured set, its own source, or, without data of
   * its own, the held-out half after a captured or mixed calibration (split, never skipped).
   */
  static boolean readsCaptured(SparseModelSpec spec) {
    EvaluationSpec evaluation = spec.evaluation();
    return evaluation.readsCaptured()
        || (!evaluation.hasSets()
            && evaluation.dataUri() == null
            && spec.sparsity().calibration().captured());
  }

  private static EvaluateArgs.HeldOutSet resolve(EvaluationSet set, StageContext c) {
    String labels = set.labelsUri() == null ? null : Storage.path(set.labelsUri());
    if (set.captured()) {
      return new EvaluateArgs.HeldOutSet(
          set.name(), Storage.path(Storage.captureUri(c.model())), null, null);
    }
    if (set.dataUri() != null) {
      return new EvaluateArgs.HeldOutSet(set.name(), Storage.path(set.dataUri()), labels, null);
    }
    // The calibration file's sentences after those calibration used, as without named sets.
    return new EvaluateArgs.HeldOutSet(
        set.name(), c.calibration(), labels, c.spec().sparsity().calibration().samples());
  }

  /** What the spec asks of named sets that cannot be done, each naming its field. */
  static void problems(SparseModelSpec spec, List<String> problems) {
    EvaluationSpec evaluation = spec.evaluation();
    if (!evaluation.hasSets()) {
      return;
    }
    if (evaluation.dataUri() != null || evaluation.labelsUri() != null) {
      problems.add(
          "spec.evaluation."
              + (evaluation.dataUri() != null ? "dataUri" : "labelsUri")
              + ": unused beside spec.evaluation.sets; give it as one set's dataUri and labelsUri");
    }
    if (evaluation.source() != null && evaluation.source() != DataSource.FILE) {
      problems.add(
          "spec.evaluation.source: unused beside spec.evaluation.sets; give each set its source");
    }
    GateSpec.Metric metric = spec.gate().metric();
    boolean taskMetric =
        metric == GateSpec.Metric.ACCURACY
            || metric == GateSpec.Metric.NDCG
            || metric == GateSpec.Metric.PNR;
    Set<String> names = new HashSet<>();
    int captured = 0;
    for (int i = 0; i < evaluation.sets().size(); i++) {
      EvaluationSet set = evaluation.sets().get(i);
      String field = "spec.evaluation.sets[" + i + "]";
      if (!names.add(set.name())) {
        problems.add(field + ".name: " + set.name() + " names an earlier set too");
      }
      if (set.source() == DataSource.MIXED) {
        problems.add(field + ".source: mixed is for calibration; a set reads file or captured");
      } else if (set.captured()) {
        captured++;
        captured(spec, set, field, taskMetric, captured, problems);
      } else if (set.dataUri() == null && !calibrationFile(spec)) {
        problems.add(
            field
                + ".dataUri: required: without it a set holds out the calibration file's"
                + " sentences, and calibration reads no file of its own"
                + (spec.sparsity().calibration().source() == DataSource.CAPTURED
                    ? " (its source is captured)"
                    : ""));
      } else if (set.dataUri() == null && Stage.plan(spec).contains(Stage.FINETUNE)) {
        problems.add(field + ".dataUri: " + SpecValidator.TRAINED_ON_CALIBRATION_FILE);
      }
      if (taskMetric && !set.captured() && set.labelsUri() == null) {
        problems.add(
            field
                + ".labelsUri: required by gate metric "
                + SpecValidator.json(metric)
                + ", on every set");
      }
    }
  }

  private static void captured(
      SparseModelSpec spec,
      EvaluationSet set,
      String field,
      boolean taskMetric,
      int capturedSoFar,
      List<String> problems) {
    if (spec.rollout().capture() == null) {
      problems.add(
          field
              + ".source: captured, but nothing is captured for this model; set"
              + " spec.rollout.capture");
    }
    if (capturedSoFar > 1) {
      problems.add(field + ".source: the captured held-out half is already an earlier set");
    }
    if (set.dataUri() != null) {
      problems.add(field + ".dataUri: unused with source captured; remove it");
    }
    if (set.labelsUri() != null || taskMetric) {
      problems.add(
          (set.labelsUri() != null ? field + ".labelsUri" : "spec.gate.metric")
              + ": captured samples have no labels; gate on cosine-fidelity, top1-agreement or"
              + " topk-agreement, or give this set a labelled file");
    }
  }

  /** Whether calibration reads a file's first sentences (mixed: some), the rest held out. */
  private static boolean calibrationFile(SparseModelSpec spec) {
    var calibration = spec.sparsity().calibration();
    return calibration.dataUri() != null && calibration.source() != DataSource.CAPTURED;
  }
}
