package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.util.ArrayList;
import java.util.List;

/** A pipeline stage, run as one Job. */
public enum Stage {
  PRUNE("prune", Phase.PRUNING),
  FINETUNE("finetune", Phase.FINE_TUNING),
  QUANTIZE("quantize", Phase.QUANTIZING),
  /** int8 PTQ of the dense model, for the dense-int8 variant. */
  QUANTIZE_DENSE("quantize-dense", Phase.QUANTIZING),
  BUILD_ENGINE("engine", Phase.BUILDING_ENGINE),
  EVALUATE("evaluate", Phase.EVALUATING);

  private final String jobSuffix;
  private final Phase phase;

  Stage(String jobSuffix, Phase phase) {
    this.jobSuffix = jobSuffix;
    this.phase = phase;
  }

  public String jobSuffix() {
    return jobSuffix;
  }

  public Phase phase() {
    return phase;
  }

  /** The stages the spec asks for, in order. */
  public static List<Stage> plan(SparseModelSpec spec) {
    List<Stage> stages = new ArrayList<>();
    stages.add(PRUNE);
    boolean qat = spec.quantization().mode() == QuantizationSpec.Mode.INT8_QAT;
    boolean progressive =
        spec.sparsity().progressiveSteps() != null && !spec.sparsity().progressiveSteps().isEmpty();
    if (spec.sparsity().method() == SparsitySpec.Method.FINETUNE || qat || progressive) {
      stages.add(FINETUNE);
    }
    if (spec.quantization().mode() == QuantizationSpec.Mode.INT8_PTQ) {
      stages.add(QUANTIZE);
    }
    if (Variants.built(spec).contains(io.sparserollout.stage.VariantModel.DENSE + "int8")) {
      stages.add(QUANTIZE_DENSE);
    }
    stages.add(BUILD_ENGINE);
    stages.add(EVALUATE);
    return stages;
  }
}
