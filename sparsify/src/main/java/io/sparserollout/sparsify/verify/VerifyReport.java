package io.sparserollout.sparsify.verify;

import java.util.List;

/** Per-layer 2:4 check of a model. */
public record VerifyReport(int sparseLayers, List<Violation> violations, List<LayerCheck> layers) {

  /** A layer claimed or looking sparse that does not satisfy 2:4 along its reduction axis. */
  public record Violation(String weight, String reason) {}

  /** One linear or convolution layer. */
  public record LayerCheck(
      String weight, String node, int reductionAxis, boolean satisfies2to4, double zeroFraction) {}
}
