package io.sparserollout.sparsify.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerFinderTest {
  @TempDir Path dir;

  @Test
  void findsTheReductionAxisOfEachKindOfLayer() {
    var layers = LayerFinder.all().find(zoo());

    assertThat(layers.prunable())
        .extracting(PrunableLayer::weight, PrunableLayer::reductionAxis, PrunableLayer::reduction)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("matmul.weight", 0, 8),
            org.assertj.core.groups.Tuple.tuple("gemm.weight", 1, 8),
            org.assertj.core.groups.Tuple.tuple("conv.weight", 1, 8),
            org.assertj.core.groups.Tuple.tuple("head.weight", 0, 8));
  }

  @Test
  void reportsEverySkippedLayerWithItsReason() {
    var layers = new LayerFinder(List.of(), List.of("^head\\.")).find(zoo());

    assertThat(layers.skipped())
        .extracting(LayerFinder.Skipped::weight, LayerFinder.Skipped::reason)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "odd.weight", "reduction dimension K=6 is not a multiple of 4"),
            org.assertj.core.groups.Tuple.tuple("head.weight", "excluded by the layer selection"));
  }

  @Test
  void includeSelectsOnlyMatchingWeights() {
    var layers = new LayerFinder(List.of("^gemm"), List.of()).find(zoo());

    assertThat(layers.prunable()).extracting(PrunableLayer::weight).containsExactly("gemm.weight");
  }

  @Test
  void indexWalksTheReductionAxisOfAConvolution() {
    PrunableLayer conv = new PrunableLayer("c", "Conv", "w", "x", new long[] {6, 8, 3, 3}, 1);

    assertThat(conv.rows()).isEqualTo(6 * 9);
    assertThat(conv.index(0, 1)).isEqualTo(9); // (o=0, c=1, r=0, s=0)
    assertThat(conv.index(10, 2)).isEqualTo((1 * 8 + 2) * 9 + 1); // row 10 = (o=1, rs=1)
  }

  private OnnxModel zoo() {
    return OnnxModel.load(TinyModels.write(TinyModels.layerZoo(1), dir.resolve("zoo.onnx")));
  }
}
