package io.sparserollout.sparsify.train;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.pytorch.Tensor;

/**
 * An ONNX graph run by libtorch, so that autograd can train its weights: every node becomes the
 * libtorch operation of the same meaning, the initializers become tensors (the float ones may be
 * made trainable). Any model built only of {@link TorchOps#SUPPORTED} operators runs, with no
 * model-specific code; any other operator is refused up front, by name and node.
 */
public final class TorchGraph implements AutoCloseable {
  private final GraphProto graph;
  private final int opset;
  private final Map<String, Tensor> initializers = new LinkedHashMap<>();

  /** What forward runs: the graph's nodes with fused chains and without its Constant nodes. */
  private final List<NodeProto> nodes = new ArrayList<>();

  /** The Constant nodes' values, made once: they are the same on every run. */
  private final Map<String, Tensor> constants = new HashMap<>();

  private InputHook inputHook = (node, index, value) -> value;

  /** Rewrites what a node reads (int8 fake quantization of a layer's activation and weight). */
  @FunctionalInterface
  public interface InputHook {
    Tensor apply(NodeProto node, int index, Tensor value);

    /** Called as each forward run ends: a hook forgets what it kept for that run. */
    default void forwardEnds() {}
  }

  private TorchGraph(OnnxModel model) {
    this.graph = model.proto().getGraph();
    this.opset =
        model.proto().getOpsetImportList().stream()
            .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
            .mapToInt(o -> (int) o.getVersion())
            .findFirst()
            .orElse(11);
    for (TensorProto initializer : graph.getInitializerList()) {
      initializers.put(initializer.getName(), TorchTensors.of(initializer, model));
    }
    for (NodeProto node : Fusions.fuse(graph)) {
      if (node.getOpType().equals("Constant")) {
        constants.put(node.getOutput(0), TorchOps.apply(node, List.of(), opset).get(0));
      } else {
        nodes.add(node);
      }
    }
  }

  /** The graph of {@code model}, or a clear error naming the first unsupported operator. */
  public static TorchGraph of(OnnxModel model) {
    Set<String> supported = new TreeSet<>(TorchOps.SUPPORTED);
    supported.addAll(TorchConvOps.SUPPORTED);
    // Each unsupported operator (or form) once, with its first node and how many more there are.
    Map<String, String> firstNode = new java.util.TreeMap<>();
    Map<String, Integer> count = new HashMap<>();
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      String form = TorchConvOps.unsupported(node);
      String what =
          !supported.contains(node.getOpType()) || !node.getDomain().isEmpty()
              ? node.getOpType()
              : form;
      if (what != null) {
        firstNode.putIfAbsent(what, node.getName());
        count.merge(what, 1, Integer::sum);
      }
    }
    if (!firstNode.isEmpty()) {
      List<String> unsupported = new ArrayList<>();
      firstNode.forEach(
          (what, node) ->
              unsupported.add(
                  what
                      + " (node "
                      + node
                      + (count.get(what) > 1 ? " and " + (count.get(what) - 1) + " more" : "")
                      + ")"));
      throw new SparsifyException(
          "fine-tuning runs ONNX graphs of the operators "
              + supported
              + "; this model also uses "
              + String.join(", ", unsupported));
    }
    return new TorchGraph(model);
  }

  /**
   * A batch as this graph's inputs: tokens matched by name as the ONNX Runtime path does, tensors
   * by their own names.
   */
  public Map<String, Tensor> feeds(Batch batch) {
    return batch instanceof TokenBatch tokens ? feeds(tokens) : feeds((TensorBatch) batch);
  }

  private Map<String, Tensor> feeds(TensorBatch batch) {
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    batch.inputs().forEach((name, input) -> feeds.put(name, TorchTensors.of(input)));
    return feeds;
  }

  private Map<String, Tensor> feeds(TokenBatch batch) {
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (var input : graph.getInputList()) {
      String name = input.getName();
      if (initializers.containsKey(name)) {
        continue;
      }
      long[] values =
          name.contains("mask")
              ? batch.attentionMask()
              : name.contains("type") ? batch.typeIds() : batch.ids();
      feeds.put(name, Tensor.create(values, batch.size(), batch.length()));
    }
    return feeds;
  }

  /** Whether {@code name} is one of the graph's own inputs (fed, not computed). */
  public boolean isInput(String name) {
    return graph.getInputList().stream().anyMatch(i -> i.getName().equals(name))
        && !initializers.containsKey(name);
  }

  /** The float initializers, by name: the candidates for training. */
  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /**
   * The initializers read only as the table of a Gather (embedding lookups). Training one costs a
   * dense gradient and optimizer update over every row while a batch reads a few hundred.
   */
  public Set<String> lookupTables() {
    Set<String> tables = new TreeSet<>(initializers.keySet());
    for (NodeProto node : graph.getNodeList()) {
      for (int i = 0; i < node.getInputCount(); i++) {
        if (i > 0 || !node.getOpType().equals("Gather")) {
          tables.remove(node.getInput(i));
        }
      }
    }
    tables.retainAll(
        graph.getNodeList().stream()
            .filter(n -> n.getOpType().equals("Gather"))
            .map(n -> n.getInput(0))
            .toList());
    return tables;
  }

  /** Batch normalization's running mean and variance: statistics of the data, never trained. */
  public Set<String> runningStatistics() {
    Set<String> statistics = new TreeSet<>();
    for (NodeProto node : graph.getNodeList()) {
      if (node.getOpType().equals("BatchNormalization") && node.getInputCount() >= 5) {
        statistics.add(node.getInput(3));
        statistics.add(node.getInput(4));
      }
    }
    return statistics;
  }

  /** Every node's inputs pass through {@code hook} from now on. */
  public void inputHook(InputHook hook) {
    this.inputHook = hook;
  }

  /** Runs the graph; returns the named outputs (all graph outputs when {@code wanted} is empty). */
  public Map<String, Tensor> forward(Map<String, Tensor> inputs, List<String> wanted) {
    Map<String, Tensor> values = new HashMap<>(initializers);
    values.putAll(constants);
    values.putAll(inputs);
    try {
      run(values);
    } finally {
      inputHook.forwardEnds();
    }
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    List<String> names =
        wanted.isEmpty() ? graph.getOutputList().stream().map(o -> o.getName()).toList() : wanted;
    for (String name : names) {
      Tensor value = values.get(name);
      if (value == null) {
        throw new SparsifyException("the graph has no value " + name);
      }
      outputs.put(name, value);
    }
    return outputs;
  }

  private void run(Map<String, Tensor> values) {
    for (NodeProto node : nodes) {
      List<Tensor> in = new ArrayList<>();
      for (int i = 0; i < node.getInputCount(); i++) {
        String name = node.getInput(i);
        in.add(name.isEmpty() ? null : inputHook.apply(node, i, values.get(name)));
      }
      try {
        List<Tensor> out = TorchOps.apply(node, in, opset);
        for (int i = 0; i < out.size(); i++) {
          values.put(node.getOutput(i), out.get(i));
        }
      } catch (RuntimeException e) {
        throw new SparsifyException(
            "node " + node.getName() + " (" + node.getOpType() + ") failed: " + e.getMessage(), e);
      }
    }
  }

  @Override
  public void close() {
    initializers.values().forEach(Tensor::close);
    constants.values().forEach(Tensor::close);
  }
}
