package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.ShapeProfile;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Rules the CRD schema cannot express (the API server here predates CEL validation): relations
 * between fields. Each problem names the field, as the API server's own messages do.
 */
public final class SpecValidator {
  private SpecValidator() {}

  public static List<String> problems(SparseModelSpec spec) {
    List<String> problems = new ArrayList<>();
    boolean s3 = Storage.uris(spec).stream().anyMatch(u -> u != null && u.startsWith("s3://"));
    if (s3 && spec.artifactStore().credentialsSecret() == null) {
      problems.add(
          "spec.artifactStore.credentialsSecret: required for s3:// locations (a Secret with"
              + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    }
    SparsitySpec sparsity = spec.sparsity();
    boolean needsCalibration =
        sparsity.method() != SparsitySpec.Method.MAGNITUDE
            || spec.quantization().mode() != QuantizationSpec.Mode.NONE;
    if (needsCalibration && sparsity.calibration().dataUri() == null) {
      problems.add(
          "spec.sparsity.calibration.dataUri: required by method "
              + json(sparsity.method())
              + " and quantization mode "
              + json(spec.quantization().mode()));
    }
    if (spec.source().tokenizerUri() == null) {
      problems.add("spec.source.tokenizerUri: required: evaluation runs text through the model");
    }
    if (spec.evaluation().dataUri() == null && sparsity.calibration().dataUri() == null) {
      problems.add("spec.evaluation.dataUri: required when there is no calibration data");
    }
    if (Stage.plan(spec).contains(Stage.FINETUNE)
        && !Boolean.TRUE.equals(spec.fineTuning().distillation())
        && spec.fineTuning().labelsUri() == null) {
      problems.add(
          "spec.fineTuning.labelsUri: required when spec.fineTuning.distillation is false (the"
              + " task loss from labels is then the only loss)");
    }
    List<SparsitySpec.Pattern> steps = sparsity.progressiveSteps();
    if (steps != null
        && !steps.isEmpty()
        && steps.get(steps.size() - 1) != SparsitySpec.Pattern.TWO_FOUR) {
      problems.add("spec.sparsity.progressiveSteps: must end with \"2:4\"");
    }
    for (String field : List.of("include", "exclude")) {
      List<String> patterns =
          field.equals("include") ? sparsity.layers().include() : sparsity.layers().exclude();
      for (String regex : patterns == null ? List.<String>of() : patterns) {
        try {
          Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
          problems.add("spec.sparsity.layers." + field + ": invalid regular expression " + regex);
        }
      }
    }
    EngineSpec engine = spec.engine();
    if (engine.precision() == EngineSpec.Precision.INT8
        && engine.backend() == EngineSpec.Backend.TENSORRT
        && spec.quantization().mode() == QuantizationSpec.Mode.NONE) {
      problems.add(
          "spec.engine.precision: int8 needs explicit Q/DQ: set spec.quantization.mode to int8-ptq"
              + " or int8-qat");
    }
    ShapeProfile s = engine.shapes();
    if (s.minBatch() > s.optBatch() || s.optBatch() > s.maxBatch()) {
      problems.add("spec.engine.shapes: minBatch <= optBatch <= maxBatch does not hold");
    }
    if (s.minSequence() > s.optSequence() || s.optSequence() > s.maxSequence()) {
      problems.add("spec.engine.shapes: minSequence <= optSequence <= maxSequence does not hold");
    }
    GateSpec.Metric metric = spec.gate().metric();
    boolean taskMetric =
        metric == GateSpec.Metric.ACCURACY
            || metric == GateSpec.Metric.NDCG
            || metric == GateSpec.Metric.PNR;
    if (taskMetric && spec.evaluation().labelsUri() == null) {
      problems.add("spec.evaluation.labelsUri: required by gate metric " + json(metric));
    }
    if (spec.rollout().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API
        && spec.rollout().gateway() == null) {
      problems.add(
          "spec.rollout.gateway: required by trafficMode gateway-api (the Gateway the HTTPRoute"
              + " attaches to)");
    }
    return problems;
  }

  private static String json(Enum<?> value) {
    try {
      return "\""
          + value
              .getDeclaringClass()
              .getField(value.name())
              .getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class)
              .value()
          + "\"";
    } catch (NoSuchFieldException e) {
      return value.name();
    }
  }
}
