package io.sparserollout.sparsify.head;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.List;

/**
 * The pieces a head adds to an encoder's graph, under a prefix of its own. Only operators of every
 * opset from 11 are used; where an opset moved an attribute to an input (ReduceSum's axes at 13),
 * both forms are written.
 */
final class GraphNodes {
  private final GraphProto.Builder graph;
  private final String prefix;
  private final int opset;

  GraphNodes(GraphProto.Builder graph, String prefix, int opset) {
    this.graph = graph;
    this.prefix = prefix;
    this.opset = opset;
    graph.addInitializer(longs(prefix + "to_rows", 0, 1, -1));
    graph.addInitializer(longs(prefix + "flat", 0, -1));
    graph.addInitializer(floats(prefix + "one", new float[] {1f}));
  }

  /** A node writing {@code output} (named under the prefix unless it is a graph output). */
  NodeProto.Builder add(String op, List<String> inputs, String output) {
    NodeProto.Builder node =
        NodeProto.newBuilder()
            .setOpType(op)
            .setName(output.startsWith(prefix) ? output : prefix + output)
            .addAllInput(inputs)
            .addOutput(output);
    graph.addNode(node);
    return graph.getNodeBuilder(graph.getNodeCount() - 1);
  }

  /** {@code mask} (int64 [batch, sequence]) as float32. */
  String floatMask(String mask, String output) {
    add("Cast", List.of(mask), output)
        .addAttribute(integer("to", TensorProto.DataType.FLOAT_VALUE));
    return output;
  }

  /**
   * The mean of {@code hidden} [batch, sequence, hidden] over the tokens where the float mask
   * [batch, sequence] is 1: [batch, hidden]; a row with no such token pools to zeros.
   */
  String meanPool(String hidden, String floatMask, String name) {
    String p = prefix + name + "_";
    add("Reshape", List.of(floatMask, prefix + "to_rows"), p + "mask_rows");
    add("MatMul", List.of(p + "mask_rows", hidden), p + "summed");
    String count = sumLastAxis(p + "mask_rows", p + "count", 2);
    add("Max", List.of(count, prefix + "one"), p + "count_at_least_one");
    add("Div", List.of(p + "summed", p + "count_at_least_one"), p + "pooled_rows");
    add("Reshape", List.of(p + "pooled_rows", prefix + "flat"), p + "pooled");
    return p + "pooled";
  }

  /** Each row of [batch, hidden] divided by its length (at least 1e-12, so zeros stay zeros). */
  String unit(String rows, String name) {
    String p = prefix + name + "_";
    if (graph.getInitializerList().stream().noneMatch(t -> t.getName().equals(prefix + "tiny"))) {
      graph.addInitializer(floats(prefix + "tiny", new float[] {1e-12f}));
    }
    add("Mul", List.of(rows, rows), p + "squares");
    String sum = sumLastAxis(p + "squares", p + "sum_of_squares", 1);
    add("Sqrt", List.of(sum), p + "length");
    add("Max", List.of(p + "length", prefix + "tiny"), p + "length_at_least_tiny");
    add("Div", List.of(rows, p + "length_at_least_tiny"), p + "unit");
    return p + "unit";
  }

  private String sumLastAxis(String input, String output, long axis) {
    NodeProto.Builder sum = add("ReduceSum", List.of(input), output);
    sum.addAttribute(integer("keepdims", 1));
    if (opset >= 13) {
      String axes = prefix + "axis_" + axis;
      if (graph.getInitializerList().stream().noneMatch(t -> t.getName().equals(axes))) {
        graph.addInitializer(longs(axes, axis));
      }
      sum.addInput(axes);
    } else {
      sum.addAttribute(
          AttributeProto.newBuilder()
              .setName("axes")
              .setType(AttributeProto.AttributeType.INTS)
              .addInts(axis));
    }
    return output;
  }

  /** {@code input} [batch, features] times the weight's rows, plus the bias: [batch, rows]. */
  void linear(String input, String weight, String bias, String output) {
    add("Gemm", List.of(input, weight, bias), output).addAttribute(integer("transB", 1));
  }

  /** The graph's only output: float32 [batch_size, width]. */
  void onlyOutput(String name, int width) {
    graph.clearOutput();
    graph.addOutput(
        ValueInfoProto.newBuilder()
            .setName(name)
            .setType(
                TypeProto.newBuilder()
                    .setTensorType(
                        TypeProto.Tensor.newBuilder()
                            .setElemType(TensorProto.DataType.FLOAT_VALUE)
                            .setShape(
                                TensorShapeProto.newBuilder()
                                    .addDim(
                                        TensorShapeProto.Dimension.newBuilder()
                                            .setDimParam("batch_size"))
                                    .addDim(
                                        TensorShapeProto.Dimension.newBuilder()
                                            .setDimValue(width))))));
  }

  static AttributeProto integer(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  static TensorProto longs(String name, long... values) {
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.INT64_VALUE)
            .addDims(values.length);
    for (long v : values) {
      t.addInt64Data(v);
    }
    return t.build();
  }

  static TensorProto floats(String name, float[] values, long... dims) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims.length == 0 ? new long[] {values.length} : dims) {
      t.addDims(d);
    }
    for (float v : values) {
      t.addFloatData(v);
    }
    return t.build();
  }
}
