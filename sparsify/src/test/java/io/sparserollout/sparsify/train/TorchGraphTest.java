package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchGraphTest {
  private static final TokenBatch BATCH =
      new TokenBatch(
          2, 3, new long[] {1, 5, 9, 2, 3, 0}, new long[] {1, 1, 1, 1, 1, 0}, new long[6]);

  @Test
  void runsAnOnnxGraphAsOnnxRuntimeDoes(@TempDir Path dir) {
    Path file = TinyModels.write(TinyModels.textEncoder(16, 8, 12, 7), dir.resolve("tiny.onnx"));
    float[] expected;
    try (OrtModel ort = OrtModel.open(file, 1)) {
      expected = ort.run(BATCH, Set.of("last_hidden_state")).get("last_hidden_state").data();
    }
    try (TorchGraph graph = TorchGraph.of(OnnxModel.load(file))) {
      Tensor out = graph.forward(graph.feeds(BATCH), List.of()).get("last_hidden_state");
      assertThat(TorchTensors.shape(out)).containsExactly(2, 3, 8);
      float[] actual = TorchTensors.toFloats(out);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
  }

  @Test
  void anUnsupportedOperatorIsRefusedByNameAndNode(@TempDir Path dir) {
    var proto = TinyModels.textEncoder(16, 8, 12, 7).toBuilder();
    proto
        .getGraphBuilder()
        .addNode(
            NodeProto.newBuilder()
                .setOpType("LSTM")
                .setName("stem.lstm")
                .addInput("last_hidden_state")
                .addOutput("y"));
    Path file = TinyModels.write(proto.build(), dir.resolve("lstm.onnx"));
    assertThatThrownBy(() -> TorchGraph.of(OnnxModel.load(file)))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("LSTM (node stem.lstm)");
  }
}
