package io.sparserollout.operator.pipeline;

import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.SelectionSpec;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.stage.VariantModel;
import java.util.ArrayList;
import java.util.List;

/**
 * The variants a spec builds and measures: dense and 2:4 sparse, at the backend's float precision
 * (fp32 on ONNX Runtime, fp16 on TensorRT) and at int8 when quantization is on. The dense float
 * variant is always built: it is the reference every speed-up is measured against.
 */
public final class Variants {
  static final String DENSE_QUANTIZED = "dense-quantized.onnx";

  /** What an absent selection means (a CRD from before selection existed): the schema defaults. */
  public static final SelectionSpec DEFAULT_SELECTION =
      new SelectionSpec(SelectionSpec.Policy.FASTEST_PASSING, null, false, 0.05);

  private Variants() {}

  /** The spec's selection with absent fields at their defaults. */
  public static SelectionSpec selection(SparseModelSpec spec) {
    SelectionSpec s = spec.selection();
    if (s == null) {
      return DEFAULT_SELECTION;
    }
    return new SelectionSpec(
        s.policy() == null ? SelectionSpec.Policy.FASTEST_PASSING : s.policy(),
        s.variant(),
        Boolean.TRUE.equals(s.requireSparse()),
        s.tolerance() == null ? 0.05 : s.tolerance());
  }

  /** fp32 on ONNX Runtime, fp16 on TensorRT. */
  public static String floatPrecision(SparseModelSpec spec) {
    return spec.engine().backend() == EngineSpec.Backend.TENSORRT ? "fp16" : "fp32";
  }

  public static boolean int8Allowed(SparseModelSpec spec) {
    return spec.quantization().mode() != QuantizationSpec.Mode.NONE;
  }

  public static String denseFloat(SparseModelSpec spec) {
    return VariantModel.DENSE + floatPrecision(spec);
  }

  /** The spec's own variant: sparse, int8 when quantization is on. */
  public static String ownVariant(SparseModelSpec spec) {
    return VariantModel.SPARSE + (int8Allowed(spec) ? "int8" : floatPrecision(spec));
  }

  /** Every name the backend and quantization allow, dense first. */
  public static List<String> allowed(SparseModelSpec spec) {
    List<String> names = new ArrayList<>();
    for (String weights : List.of(VariantModel.DENSE, VariantModel.SPARSE)) {
      names.add(weights + floatPrecision(spec));
      if (int8Allowed(spec)) {
        names.add(weights + "int8");
      }
    }
    return names;
  }

  /** The variants that may be served. */
  public static List<String> candidates(SparseModelSpec spec) {
    SelectionSpec selection = selection(spec);
    if (selection.policy() == SelectionSpec.Policy.PINNED) {
      // No variant: the validator refuses the spec; nothing is a candidate meanwhile.
      return selection.variant() == null ? List.of() : List.of(selection.variant());
    }
    return allowed(spec).stream()
        .filter(name -> !selection.requireSparse() || name.startsWith(VariantModel.SPARSE))
        .toList();
  }

  /** The candidates and the dense float reference, in {@link #allowed} order. */
  public static List<String> built(SparseModelSpec spec) {
    List<String> candidates = candidates(spec);
    String reference = denseFloat(spec);
    return allowed(spec).stream()
        .filter(name -> name.equals(reference) || candidates.contains(name))
        .toList();
  }

  /** The variant whose numbers fill the engine result's top level: pinned, or the spec's own. */
  public static String primary(SparseModelSpec spec) {
    SelectionSpec selection = selection(spec);
    return selection.policy() == SelectionSpec.Policy.PINNED && selection.variant() != null
        ? selection.variant()
        : ownVariant(spec);
  }

  /** The ONNX model each built variant comes from, with its stage's digest where recorded. */
  static List<VariantModel> models(StageContext c) {
    return built(c.spec()).stream().map(name -> model(c, name)).toList();
  }

  static VariantModel model(StageContext c, String name) {
    SparseModelSpec spec = c.spec();
    if (name.equals(VariantModel.DENSE + "int8")) {
      return new VariantModel(
          name, c.storage().artifact(DENSE_QUANTIZED), c.completedSha256(Stage.QUANTIZE_DENSE));
    }
    if (name.startsWith(VariantModel.DENSE)) {
      return new VariantModel(name, Storage.path(spec.source().uri()), null);
    }
    boolean int8 = name.endsWith("int8");
    QuantizationSpec.Mode mode = spec.quantization().mode();
    if (int8 || mode == QuantizationSpec.Mode.NONE) {
      return new VariantModel(
          name,
          c.storage().artifact(c.inputOf(Stage.BUILD_ENGINE)),
          c.inputSha256(Stage.BUILD_ENGINE));
    }
    if (mode == QuantizationSpec.Mode.INT8_PTQ) {
      // The float model PTQ started from.
      return new VariantModel(
          name, c.storage().artifact(c.inputOf(Stage.QUANTIZE)), c.inputSha256(Stage.QUANTIZE));
    }
    // QAT's fine-tuned model carries Q/DQ: the float sparse model is the pruned one.
    return new VariantModel(
        name, c.storage().artifact(StageContext.PRUNED), c.completedSha256(Stage.PRUNE));
  }
}
