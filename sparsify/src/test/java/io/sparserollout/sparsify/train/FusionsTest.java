package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FusionsTest {
  private static final TokenBatch BATCH =
      new TokenBatch(
          2, 3, new long[] {1, 5, 9, 2, 3, 0}, new long[] {1, 1, 1, 1, 1, 0}, new long[6]);

  @Test
  void layerNormAndGeluChainsBecomeOneOperatorEach() {
    ModelProto model = TinyModels.normalizedEncoder(16, 8, 12, 7);
    List<String> ops = Fusions.fuse(model.getGraph()).stream().map(NodeProto::getOpType).toList();
    assertThat(ops)
        .containsSubsequence("Gather", "LayerNormalization", "MatMul", "Gelu", "MatMul")
        .doesNotContain("ReduceMean", "Pow", "Sqrt", "Erf", "Div");
  }

  @Test
  void theFusedGraphComputesWhatOnnxRuntimeComputesFromTheChains(@TempDir Path dir) {
    assertMatchesOnnxRuntime(TinyModels.normalizedEncoder(16, 8, 12, 7), dir);
  }

  @Test
  void aChainWhoseIntermediateIsReadElsewhereIsLeftAsItIs(@TempDir Path dir) {
    var proto = TinyModels.normalizedEncoder(16, 8, 12, 7).toBuilder();
    // The erf value becomes a graph output: fusing GELU would lose it.
    proto
        .getGraphBuilder()
        .addOutput(
            ValueInfoProto.newBuilder()
                .setName("g.e")
                .setType(
                    ai.onnx.proto.OnnxMl.TypeProto.newBuilder()
                        .setTensorType(
                            ai.onnx.proto.OnnxMl.TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE))));
    ModelProto model = proto.build();
    List<String> ops = Fusions.fuse(model.getGraph()).stream().map(NodeProto::getOpType).toList();
    assertThat(ops).contains("LayerNormalization", "Erf").doesNotContain("Gelu");
    assertMatchesOnnxRuntime(model, dir);
  }

  private static void assertMatchesOnnxRuntime(ModelProto model, Path dir) {
    Path file = TinyModels.write(model, dir.resolve("normalized.onnx"));
    float[] expected;
    try (OrtModel ort = OrtModel.open(file, 1)) {
      expected = ort.run(BATCH, Set.of("last_hidden_state")).get("last_hidden_state").data();
    }
    try (TorchGraph graph = TorchGraph.of(OnnxModel.load(file))) {
      float[] actual =
          TorchTensors.toFloats(
              graph
                  .forward(graph.feeds(BATCH), List.of("last_hidden_state"))
                  .get("last_hidden_state"));
      assertThat(actual).hasSize(expected.length);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).isCloseTo(expected[i], Offset.offset(1e-4f));
      }
    }
  }
}
