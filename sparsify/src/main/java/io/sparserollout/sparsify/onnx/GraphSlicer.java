package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.sparserollout.sparsify.SparsifyException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Cuts a graph into segments that run one after another, each holding only the nodes not run before
 * that the next requested tensor depends on. Layer-by-layer calibration through such segments runs
 * every node once, so its cost grows with the depth of the model, not its square.
 */
public final class GraphSlicer {
  /**
   * Nodes to run, in graph order; the tensors they read from earlier segments or the graph's
   * inputs; the initializers they read; the tensors they produce that the target is or a node not
   * yet run reads.
   */
  public record Segment(
      String target,
      List<NodeProto> nodes,
      List<String> inputs,
      List<String> initializers,
      List<String> outputs) {}

  /** Protobuf's limit for one message, less room for the graph itself. */
  private static final long MAX_SEGMENT_BYTES = Integer.MAX_VALUE - (64L << 20);

  private final List<NodeProto> nodes;
  private final Set<String> initializers = new HashSet<>();
  private final Map<String, Integer> producer = new HashMap<>();
  private final List<Set<String>> reads = new ArrayList<>();
  private final Map<String, List<Integer>> readers = new HashMap<>();
  private final boolean[] ran;
  private final int[] rank;

  public GraphSlicer(GraphProto graph) {
    nodes = graph.getNodeList();
    graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
    graph.getSparseInitializerList().forEach(t -> initializers.add(t.getValues().getName()));
    for (int i = 0; i < nodes.size(); i++) {
      Set<String> read = reads(nodes.get(i));
      reads.add(read);
      for (String name : read) {
        readers.computeIfAbsent(name, n -> new ArrayList<>()).add(i);
      }
      for (String out : nodes.get(i).getOutputList()) {
        if (!out.isEmpty()) {
          producer.put(out, i);
        }
      }
    }
    ran = new boolean[nodes.size()];
    rank = topologicalRanks();
  }

  /**
   * Where the node that produces {@code tensor} comes in a topological order of the graph (-1 for a
   * graph input): ONNX Runtime loads graphs whose node list is not sorted, so the list's order is
   * not enough.
   */
  public int position(String tensor) {
    Integer at = producer.get(tensor);
    return at == null ? -1 : rank[at];
  }

  /** Whether a node that has run already reads {@code tensor}. */
  public boolean alreadyRead(String tensor) {
    for (int i : readers.getOrDefault(tensor, List.of())) {
      if (ran[i]) {
        return true;
      }
    }
    return false;
  }

  /** Kahn's algorithm; nodes in a cycle (an invalid graph) come last. */
  private int[] topologicalRanks() {
    int[] waiting = new int[nodes.size()];
    Deque<Integer> ready = new ArrayDeque<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String name : reads.get(i)) {
        Integer from = producer.get(name);
        if (from != null && from != i) {
          waiting[i]++;
        }
      }
      if (waiting[i] == 0) {
        ready.add(i);
      }
    }
    int[] ranks = new int[nodes.size()];
    java.util.Arrays.fill(ranks, nodes.size());
    int next = 0;
    while (!ready.isEmpty()) {
      int i = ready.poll();
      ranks[i] = next++;
      for (String out : nodes.get(i).getOutputList()) {
        for (int reader : readers.getOrDefault(out, List.of())) {
          if (reader != i && --waiting[reader] == 0) {
            ready.add(reader);
          }
        }
      }
    }
    return ranks;
  }

  /** The next segment: what {@code target} needs that has not run yet. Marks those nodes run. */
  public Segment next(String target) {
    TreeSet<Integer> needed = new TreeSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(target));
    while (!todo.isEmpty()) {
      Integer at = producer.get(todo.pop());
      if (at != null && !ran[at] && needed.add(at)) {
        todo.addAll(reads.get(at));
      }
    }
    Set<String> produced = new HashSet<>();
    needed.forEach(i -> produced.addAll(nodes.get(i).getOutputList()));
    Set<String> inputs = new LinkedHashSet<>();
    Set<String> weights = new LinkedHashSet<>();
    for (int i : needed) {
      for (String name : reads.get(i)) {
        if (initializers.contains(name)) {
          weights.add(name);
        } else if (!produced.contains(name)) {
          inputs.add(name);
        }
      }
      ran[i] = true;
    }
    List<String> outputs = new ArrayList<>();
    for (int i : needed) {
      for (String out : nodes.get(i).getOutputList()) {
        if (!out.isEmpty() && (out.equals(target) || stillRead(out))) {
          outputs.add(out);
        }
      }
    }
    return new Segment(
        target,
        needed.stream().map(nodes::get).toList(),
        List.copyOf(inputs),
        List.copyOf(weights),
        outputs);
  }

  /** Whether a node that has not run yet reads {@code tensor}. */
  public boolean stillRead(String tensor) {
    for (int i : readers.getOrDefault(tensor, List.of())) {
      if (!ran[i]) {
        return true;
      }
    }
    return false;
  }

  /**
   * The segment as a model ONNX Runtime loads: its nodes, its initializers as the model holds them
   * now (pruned weights included, external data read in), and its inputs typed as given.
   */
  public static byte[] model(OnnxModel model, Segment segment, Map<String, TypeProto> inputTypes) {
    ModelProto.Builder whole = model.proto();
    ModelProto.Builder out =
        ModelProto.newBuilder()
            .setIrVersion(whole.getIrVersion())
            .addAllOpsetImport(whole.getOpsetImportList())
            .addAllFunctions(whole.getFunctionsList());
    GraphProto.Builder graph =
        out.getGraphBuilder().setName("segment to " + segment.target()).addAllNode(segment.nodes());
    long bytes = 0;
    for (String name : segment.initializers()) {
      var sparse =
          whole.getGraph().getSparseInitializerList().stream()
              .filter(t -> t.getValues().getName().equals(name))
              .findFirst();
      if (sparse.isPresent()) {
        graph.addSparseInitializer(sparse.get());
        continue;
      }
      TensorProto tensor = model.inlineInitializer(name);
      bytes += tensor.getSerializedSize();
      if (bytes > MAX_SEGMENT_BYTES) {
        throw new SparsifyException(
            "the layers that compute "
                + segment.target()
                + " hold over 2 GB of weights: ONNX Runtime loads a model from memory only up"
                + " to 2 GB");
      }
      graph.addInitializer(tensor);
    }
    for (String name : segment.inputs()) {
      TypeProto type = inputTypes.get(name);
      if (type == null) {
        throw new SparsifyException(
            "no value for " + name + ", which " + segment.target() + " needs");
      }
      graph.addInput(ValueInfoProto.newBuilder().setName(name).setType(type));
    }
    // Outputs go untyped: ONNX Runtime takes their types from the nodes that produce them.
    segment.outputs().forEach(name -> graph.addOutput(ValueInfoProto.newBuilder().setName(name)));
    return out.build().toByteArray();
  }

  /** A node's inputs and the names its subgraphs (If, Loop, Scan) read from the outer scope. */
  static Set<String> reads(NodeProto node) {
    Set<String> names = new LinkedHashSet<>();
    node.getInputList().stream().filter(n -> !n.isEmpty()).forEach(names::add);
    for (AttributeProto attribute : node.getAttributeList()) {
      if (attribute.hasG()) {
        names.addAll(outerScopeReads(attribute.getG()));
      }
      attribute.getGraphsList().forEach(g -> names.addAll(outerScopeReads(g)));
    }
    return names;
  }

  private static Set<String> outerScopeReads(GraphProto graph) {
    Set<String> local = new HashSet<>();
    graph.getInputList().forEach(i -> local.add(i.getName()));
    graph.getInitializerList().forEach(i -> local.add(i.getName()));
    Set<String> outer = new LinkedHashSet<>();
    for (NodeProto node : graph.getNodeList()) {
      reads(node).stream().filter(n -> !local.contains(n)).forEach(outer::add);
      local.addAll(node.getOutputList());
    }
    graph.getOutputList().stream()
        .map(ValueInfoProto::getName)
        .filter(n -> !local.contains(n))
        .forEach(outer::add);
    return outer;
  }

  /** A tensor type of known rank and unknown dimensions; {@link TensorProto.DataType} numbers. */
  public static TypeProto tensorType(int elementType, int rank) {
    TypeProto.Tensor.Builder tensor = TypeProto.Tensor.newBuilder().setElemType(elementType);
    var shape = tensor.getShapeBuilder();
    for (int i = 0; i < rank; i++) {
      shape.addDim(ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.getDefaultInstance());
    }
    return TypeProto.newBuilder().setTensorType(tensor).build();
  }
}
