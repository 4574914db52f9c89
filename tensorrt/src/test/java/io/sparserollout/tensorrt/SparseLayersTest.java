package io.sparserollout.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SparseLayersTest {
  @Test
  void readsEligibleAndPickedLayersFromTheBuilderLog() {
    SparseLayers layers =
        SparseLayers.fromBuilderLog(
            List.of(
                "Some unrelated message",
                "(Sparsity) Layers eligible for sparse math: /l0/query/MatMul, /l0/key/MatMul,"
                    + " /l0/value/MatMul",
                "(Sparsity) TRT inference plan picked sparse implementation for layers:"
                    + " /l0/query/MatMul"));
    assertThat(layers.eligible())
        .containsExactly("/l0/query/MatMul", "/l0/key/MatMul", "/l0/value/MatMul");
    assertThat(layers.picked()).containsExactly("/l0/query/MatMul");
  }

  @Test
  void noSparsityMessagesMeanNoSparseLayers() {
    SparseLayers layers = SparseLayers.fromBuilderLog(List.of("Engine built in 10 s"));
    assertThat(layers.eligible()).isEmpty();
    assertThat(layers.picked()).isEmpty();
  }
}
