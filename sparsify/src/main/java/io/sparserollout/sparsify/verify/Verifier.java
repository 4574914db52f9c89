package io.sparserollout.sparsify.verify;

import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.prune.TwoFour;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Checks every MatMul/Gemm/Conv weight for the 2:4 pattern along its reduction axis. A layer is
 * claimed sparse when the model's metadata says it was pruned or when half its weights are zero; a
 * claimed layer that fails the pattern (for instance pruned along the wrong axis) is a violation.
 */
public final class Verifier {
  /** Zero fraction above which a layer looks pruned even without a metadata claim. */
  static final double LOOKS_SPARSE = 0.45;

  private Verifier() {}

  public static VerifyReport verify(OnnxModel model) {
    Set<String> claimed = Set.of(model.metadata(PruneRun.SPARSE_LAYERS_KEY).orElse("").split(","));
    LayerFinder.Layers layers = LayerFinder.all().find(model);
    List<VerifyReport.LayerCheck> checks = new ArrayList<>();
    List<VerifyReport.Violation> violations = new ArrayList<>();
    int sparse = 0;
    for (PrunableLayer layer : layers.prunable()) {
      float[] w = model.floats(layer.weight());
      double zeros = TwoFour.zeroFraction(w);
      long bad = TwoFour.violatingGroups(w, layer);
      checks.add(
          new VerifyReport.LayerCheck(
              layer.weight(), layer.node(), layer.reductionAxis(), bad == 0, zeros));
      if (bad == 0) {
        sparse++;
      } else if (claimed.contains(layer.weight()) || zeros >= LOOKS_SPARSE) {
        violations.add(new VerifyReport.Violation(layer.weight(), explain(layer, w, bad)));
      }
    }
    for (LayerFinder.Skipped skipped : layers.skipped()) {
      if (claimed.contains(skipped.weight())) {
        violations.add(
            new VerifyReport.Violation(
                skipped.weight(), "claimed 2:4 but cannot carry the pattern: " + skipped.reason()));
      }
    }
    return new VerifyReport(sparse, violations, checks);
  }

  private static String explain(PrunableLayer layer, float[] w, long bad) {
    long groups = (long) layer.rows() * layer.reduction() / TwoFour.GROUP;
    String message =
        String.format(
            "%d of %d groups of 4 along the reduction axis %d (K=%d) hold more than 2 non-zeros",
            bad, groups, layer.reductionAxis(), layer.reduction());
    for (int axis = 0; axis < layer.dims().length; axis++) {
      if (axis != layer.reductionAxis() && layer.dims()[axis] % TwoFour.GROUP == 0) {
        PrunableLayer other =
            new PrunableLayer(
                layer.node(), layer.opType(), layer.weight(), layer.input(), layer.dims(), axis);
        if (TwoFour.violatingGroups(w, other) == 0) {
          return message
              + "; the weights satisfy 2:4 along axis "
              + axis
              + " instead, which sparse Tensor Cores cannot use (dims "
              + Arrays.toString(layer.dims())
              + ")";
        }
      }
    }
    return message;
  }
}
