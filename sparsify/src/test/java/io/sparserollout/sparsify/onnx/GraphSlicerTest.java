package io.sparserollout.sparsify.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphSlicerTest {
  /**
   * x -> a = MatMul(x, w1) -> b = Relu(a) -> c = MatMul(b, w2) -> d = Add(c, a) -> e = MatMul(d,
   * w3); m (graph input) is read by the last Add only. a is a residual: computed in the first
   * segment, read again in the third.
   */
  private static GraphProto residual() {
    return GraphProto.newBuilder()
        .addInput(ValueInfoProto.newBuilder().setName("x"))
        .addInput(ValueInfoProto.newBuilder().setName("m"))
        .addInitializer(TensorProto.newBuilder().setName("w1"))
        .addInitializer(TensorProto.newBuilder().setName("w2"))
        .addInitializer(TensorProto.newBuilder().setName("w3"))
        .addNode(node("MatMul", "a", "x", "w1"))
        .addNode(node("Relu", "b", "a"))
        .addNode(node("MatMul", "c", "b", "w2"))
        .addNode(node("Add", "d", "c", "a"))
        .addNode(node("Add", "dm", "d", "m"))
        .addNode(node("MatMul", "e", "dm", "w3"))
        .build();
  }

  @Test
  void eachSegmentRunsOnlyWhatItsTargetNeedsAndKeepsWhatLaterNodesRead() {
    GraphSlicer slicer = new GraphSlicer(residual().toBuilder().build());
    assertThat(slicer.position("x")).isEqualTo(-1);
    assertThat(slicer.position("b")).isEqualTo(1);

    GraphSlicer.Segment first = slicer.next("b");
    assertThat(first.nodes()).extracting(NodeProto::getName).containsExactly("a", "b");
    assertThat(first.inputs()).containsExactly("x");
    assertThat(first.initializers()).containsExactly("w1");
    assertThat(first.outputs()).containsExactly("a", "b");
    assertThat(slicer.stillRead("x")).isFalse();
    assertThat(slicer.stillRead("a")).isTrue();

    GraphSlicer.Segment second = slicer.next("dm");
    assertThat(second.nodes()).extracting(NodeProto::getName).containsExactly("c", "d", "dm");
    assertThat(second.inputs()).containsExactly("b", "a", "m");
    assertThat(second.initializers()).containsExactly("w2");
    assertThat(second.outputs()).containsExactly("dm");
    assertThat(slicer.stillRead("a")).isFalse();
    assertThat(slicer.stillRead("dm")).isTrue();

    assertThat(slicer.next("dm").nodes()).isEmpty();
  }

  @Test
  void positionsFollowTheDataNotTheOrderOfTheNodeList() {
    GraphProto sorted = residual();
    List<NodeProto> backwards = new java.util.ArrayList<>(sorted.getNodeList());
    java.util.Collections.reverse(backwards);
    GraphProto reversed = sorted.toBuilder().clearNode().addAllNode(backwards).build();
    GraphSlicer slicer = new GraphSlicer(reversed);
    assertThat(slicer.position("a")).isLessThan(slicer.position("b"));
    assertThat(slicer.position("b")).isLessThan(slicer.position("d"));
    assertThat(slicer.position("d")).isLessThan(slicer.position("e"));
    assertThat(slicer.next("dm").nodes())
        .extracting(NodeProto::getName)
        .containsExactlyInAnyOrder("a", "b", "c", "d", "dm");
  }

  @Test
  void aWeightIsAlreadyReadOnceANodeReadingItHasRun() {
    GraphSlicer slicer = new GraphSlicer(residual());
    assertThat(slicer.alreadyRead("w2")).isFalse();
    slicer.next("dm");
    assertThat(slicer.alreadyRead("w2")).isTrue();
    assertThat(slicer.alreadyRead("w3")).isFalse();
  }

  @Test
  void aSubgraphsReadsFromTheOuterScopeCountAsTheNodesInputs() {
    GraphProto branch =
        GraphProto.newBuilder()
            .addNode(node("Identity", "inner", "outer"))
            .addOutput(ValueInfoProto.newBuilder().setName("inner"))
            .build();
    NodeProto ifNode =
        node("If", "chosen", "flag").toBuilder()
            .addAttribute(AttributeProto.newBuilder().setName("then_branch").setG(branch))
            .addAttribute(AttributeProto.newBuilder().setName("else_branch").setG(branch))
            .build();
    assertThat(GraphSlicer.reads(ifNode)).containsExactly("flag", "outer");

    GraphSlicer slicer =
        new GraphSlicer(
            GraphProto.newBuilder().addNode(node("Relu", "outer", "x")).addNode(ifNode).build());
    assertThat(slicer.next("chosen").inputs()).containsExactly("x", "flag");
  }

  private static NodeProto node(String op, String output, String... inputs) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(output)
        .addOutput(output)
        .addAllInput(List.of(inputs))
        .build();
  }
}
