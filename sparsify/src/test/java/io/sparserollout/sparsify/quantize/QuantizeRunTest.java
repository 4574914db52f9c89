package io.sparserollout.sparsify.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.eval.Evaluator;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.sparsify.verify.Verifier;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeRunTest {
  @TempDir Path dir;

  @Test
  void quantizedSparseModelRunsStaysCloseAndKeeps2to4() {
    Path dense = TinyModels.write(TinyModels.textEncoder(64, 16, 32, 5), dir.resolve("d.onnx"));
    Path sparse = dir.resolve("s.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path int8 = dir.resolve("q.onnx");

    QuantizeReport report =
        QuantizeRun.run(OnnxModel.load(sparse), batches(), 99.99, 1, int8, line -> {});

    assertThat(report.layersQuantized()).isEqualTo(2);
    assertThat(report.activationsCalibrated()).isEqualTo(2);
    assertThat(report.opsetAfter()).isEqualTo(13);
    OnnxModel quantized = OnnxModel.load(int8);
    assertThat(quantized.proto().getGraph().getNodeList())
        .filteredOn(n -> n.getOpType().equals("QuantizeLinear"))
        .hasSize(4);
    assertThat(Verifier.verify(quantized).sparseLayers()).isEqualTo(2);
    var fidelity = Evaluator.evaluate(sparse, int8, batches(), 1).fidelity();
    assertThat(fidelity.cosineMean()).isGreaterThan(0.99);
  }

  @Test
  void anAlreadyQuantizedModelIsRefused() {
    Path dense = TinyModels.write(TinyModels.textEncoder(64, 16, 32, 5), dir.resolve("d.onnx"));
    Path int8 = dir.resolve("q.onnx");
    QuantizeRun.run(OnnxModel.load(dense), batches(), 99.99, 1, int8, line -> {});

    assertThatThrownBy(
            () ->
                QuantizeRun.run(
                    OnnxModel.load(int8), batches(), 99.99, 1, dir.resolve("qq.onnx"), l -> {}))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("already quantized");
  }

  @Test
  void opset11AxesAttributesBecomeInputs() {
    ModelProto.Builder model =
        TinyModels.textEncoder(8, 4, 8, 1).toBuilder().setOpsetImport(0, opset(11));
    model
        .getGraphBuilder()
        .addNode(
            NodeProto.newBuilder()
                .setOpType("Unsqueeze")
                .setName("u")
                .addInput("last_hidden_state")
                .addOutput("u_out")
                .addAttribute(
                    AttributeProto.newBuilder()
                        .setName("axes")
                        .setType(AttributeProto.AttributeType.INTS)
                        .addInts(1)));

    assertThat(OpsetUpgrade.toOpset13(model)).isTrue();

    NodeProto unsqueeze = model.getGraph().getNode(model.getGraph().getNodeCount() - 1);
    assertThat(unsqueeze.getAttributeList()).isEmpty();
    assertThat(unsqueeze.getInputList()).containsExactly("last_hidden_state", "u/axes_opset13");
    assertThat(model.getGraph().getInitializerList())
        .anySatisfy(t -> assertThat(t.getInt64DataList()).containsExactly(1L));
    assertThat(OpsetUpgrade.defaultOpset(model)).isEqualTo(13);
    assertThat(OpsetUpgrade.toOpset13(model)).isFalse();
  }

  private static ai.onnx.proto.OnnxMl.OperatorSetIdProto opset(int version) {
    return ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setVersion(version).build();
  }

  private static List<TokenBatch> batches() {
    Random random = new Random(11);
    int size = 8;
    int length = 6;
    long[] ids = new long[size * length];
    long[] mask = new long[size * length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(64);
      mask[i] = i % length < length - (i / length) % 3 ? 1 : 0;
    }
    return List.of(new TokenBatch(size, length, ids, mask, new long[size * length]));
  }
}
