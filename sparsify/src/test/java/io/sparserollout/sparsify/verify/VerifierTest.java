package io.sparserollout.sparsify.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.prune.TwoFour;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifierTest {
  @TempDir Path dir;

  @Test
  void aPrunedModelHasEveryLayerSparseAndNoViolation() {
    OnnxModel model = encoder();
    PruneRun.run(model, LayerFinder.all(), new MagnitudePruner(), dir.resolve("p.onnx"));

    VerifyReport report = Verifier.verify(OnnxModel.load(dir.resolve("p.onnx")));

    assertThat(report.sparseLayers()).isEqualTo(2);
    assertThat(report.violations()).isEmpty();
  }

  @Test
  void aDenseModelHasNoSparseLayerAndNoViolation() {
    VerifyReport report = Verifier.verify(encoder());

    assertThat(report.sparseLayers()).isZero();
    assertThat(report.violations()).isEmpty();
  }

  @Test
  void pruningAlongTheWrongAxisIsAViolationThatNamesTheAxis() {
    OnnxModel model = encoder();
    PrunableLayer up = LayerFinder.all().find(model).prunable().get(0);
    // Treat the output axis (1) as if it were the reduction axis: the classic transposition bug.
    PrunableLayer wrong =
        new PrunableLayer(up.node(), up.opType(), up.weight(), up.input(), up.dims(), 1);
    float[] w = model.floats(up.weight());
    float[] scores = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      scores[i] = Math.abs(w[i]);
    }
    TwoFour.pruneByScore(w, scores, wrong);
    model.setFloats(up.weight(), w);

    VerifyReport report = Verifier.verify(model);

    assertThat(report.violations())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.weight()).isEqualTo("ffn.up.weight");
              assertThat(v.reason()).contains("reduction axis 0").contains("along axis 1 instead");
            });
  }

  private OnnxModel encoder() {
    return OnnxModel.load(
        TinyModels.write(TinyModels.textEncoder(16, 8, 12, 3), dir.resolve("m.onnx")));
  }
}
