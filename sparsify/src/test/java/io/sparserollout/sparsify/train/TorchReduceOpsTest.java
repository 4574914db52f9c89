package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** ReduceSum and Max as ONNX defines them (what a classifier's pooling head uses). */
class TorchReduceOpsTest {
  @Test
  void reduceSumKeepsTheInputsTypeSumsEveryAxisWithoutAxesAndCanBeANoOp() {
    Tensor ints = Tensor.create(new int[] {1, 2, 3, 4}, 2, 2);

    Tensor all = TorchOps.apply(node("ReduceSum"), List.of(ints), 13).get(0);
    Tensor noop =
        TorchOps.apply(node("ReduceSum", "noop_with_empty_axes", 1), List.of(ints), 13).get(0);
    Tensor floats = Tensor.create(new float[] {1, 2, 3, 4}, 2, 2);
    Tensor lastAxis =
        TorchOps.apply(node("ReduceSum"), List.of(floats, Tensor.create(new long[] {-1}, 1)), 13)
            .get(0);
    Tensor byAttribute =
        TorchOps.apply(
                node("ReduceSum").toBuilder()
                    .addAttribute(
                        AttributeProto.newBuilder()
                            .setName("axes")
                            .setType(AttributeProto.AttributeType.INTS)
                            .addInts(1))
                    .build(),
                List.of(floats),
                11)
            .get(0);

    assertThat(all.scalar_type().toString()).isEqualTo("Int"); // not Long
    assertThat(TorchTensors.shape(all)).containsExactly(1L, 1L);
    assertThat(all.item_double()).isEqualTo(10);
    assertThat(TorchTensors.shape(noop)).containsExactly(2L, 2L);
    assertThat(TorchTensors.toFloats(lastAxis)).containsExactly(3f, 7f);
    assertThat(TorchTensors.toFloats(byAttribute)).containsExactly(3f, 7f);
  }

  @Test
  void maxBroadcastsAOneElementOperand() {
    Tensor counts = Tensor.create(new float[] {0, 3}, 2, 1, 1);
    Tensor one = Tensor.create(new float[] {1}, 1);

    Tensor at = TorchOps.apply(node("Max"), List.of(counts, one), 13).get(0);

    assertThat(TorchTensors.shape(at)).containsExactly(2L, 1L, 1L);
    assertThat(TorchTensors.toFloats(at)).containsExactly(1f, 3f);
  }

  private static NodeProto node(String op) {
    return NodeProto.newBuilder().setOpType(op).setName(op).addInput("x").addOutput("y").build();
  }

  private static NodeProto node(String op, String attribute, long value) {
    return node(op).toBuilder()
        .addAttribute(
            AttributeProto.newBuilder()
                .setName(attribute)
                .setType(AttributeProto.AttributeType.INT)
                .setI(value))
        .build();
  }
}
