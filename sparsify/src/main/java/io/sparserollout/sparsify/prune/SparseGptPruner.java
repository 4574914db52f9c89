package io.sparserollout.sparsify.prune;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Activations;
import io.sparserollout.sparsify.text.Batch;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * SparseGPT over a whole model, layer group by layer group in graph order. Linear layers that read
 * the same activation (e.g. query, key and value) share one Hessian; a convolution's is that of its
 * unfolded input ({@link ConvPatches}); each group is calibrated on activations computed through
 * the already pruned earlier layers, as in the paper. The calibration batches flow through the
 * model once ({@link ForwardInSegments}), a group's input computed from the previous group's
 * output.
 */
public final class SparseGptPruner implements Pruner {
  private final List<? extends Batch> calibration;
  private final int threads;
  private final Consumer<String> progress;

  public SparseGptPruner(
      List<? extends Batch> calibration, int threads, Consumer<String> progress) {
    if (calibration.isEmpty()) {
      throw new SparsifyException("sparsegpt needs calibration samples");
    }
    this.calibration = calibration;
    this.threads = threads;
    this.progress = progress;
  }

  @Override
  public String method() {
    return "sparsegpt";
  }

  @Override
  public void prune(OnnxModel model, List<PrunableLayer> layers) {
    Map<String, List<PrunableLayer>> groups = new LinkedHashMap<>();
    for (PrunableLayer layer : layers) {
      groups.computeIfAbsent(layer.input(), i -> new ArrayList<>()).add(layer);
    }
    int done = 0;
    long started = System.nanoTime();
    try (ForwardInSegments forward = new ForwardInSegments(model, calibration, threads)) {
      List<String> order =
          groups.keySet().stream().sorted(Comparator.comparingInt(forward::position)).toList();
      for (String activation : order) {
        List<PrunableLayer> members = groups.get(activation);
        pruneGroup(model, forward, activation, members);
        done++;
        progress.accept(
            String.format(
                "sparsegpt: %d/%d layer groups (%s), %.0f s",
                done, groups.size(), members.get(0).weight(), (System.nanoTime() - started) / 1e9));
      }
    }
  }

  /**
   * One pass over the group's input: linear layers share one Hessian of it; each convolution gets
   * the Hessian of its own unfolded input, since its kernel decides which values meet a weight.
   */
  private void pruneGroup(
      OnnxModel model, ForwardInSegments forward, String activation, List<PrunableLayer> members) {
    List<PrunableLayer> linear = new ArrayList<>();
    Map<PrunableLayer, ConvPatches> convs = new LinkedHashMap<>();
    for (PrunableLayer layer : members) {
      if (!layer.opType().equals("Conv")) {
        linear.add(layer);
        continue;
      }
      NodeProto conv = node(model, layer);
      String why = ConvPatches.unsupported(conv, layer.dims());
      if (why == null) {
        convs.put(layer, ConvPatches.of(conv, layer.dims()));
      } else {
        progress.accept("sparsegpt: " + layer.weight() + " is " + why + "; pruned by magnitude");
        notReadYet(forward, layer);
        new MagnitudePruner().prune(model, List.of(layer));
      }
    }
    if (linear.isEmpty() && convs.isEmpty()) {
      return;
    }
    int k = linear.isEmpty() ? 0 : linear.get(0).reduction();
    double[] shared = new double[k * k];
    Map<PrunableLayer, double[]> convHessians = new LinkedHashMap<>();
    convs.forEach((layer, patches) -> convHessians.put(layer, new double[square(patches)]));
    forward.forEach(
        activation,
        (batch, x) -> {
          if (k > 0) {
            float[] rows = Activations.realTokenRows(x, batch, k);
            Torch.addGram(shared, rows, rows.length / k, k);
          }
          convs.forEach((layer, patches) -> patches.addGram(convHessians.get(layer), x));
        });
    linear.forEach(layer -> notReadYet(forward, layer));
    convs.keySet().forEach(layer -> notReadYet(forward, layer));
    for (PrunableLayer layer : linear) {
      float[] w = Pruner.rows(model.floats(layer.weight()), layer);
      SparseGpt.prune(w, layer.rows(), layer.reduction(), shared.clone());
      model.setFloats(layer.weight(), Pruner.fromRows(w, layer));
    }
    convs.forEach(
        (layer, patches) -> {
          float[] w = patches.toRows(model.floats(layer.weight()));
          int columns = patches.columns();
          SparseGpt.prune(w, w.length / columns, columns, convHessians.get(layer));
          model.setFloats(layer.weight(), patches.fromRows(w));
        });
  }

  /**
   * A weight some node has already run with, through a path the layer finder does not count as a
   * use (a subgraph, a shared quantization node), cannot be pruned now without that node's output
   * being stale.
   */
  private static void notReadYet(ForwardInSegments forward, PrunableLayer layer) {
    if (forward.alreadyRead(layer.weight())) {
      throw new SparsifyException(
          layer.weight()
              + " is also read by a node that runs before "
              + layer.node()
              + " (a weight shared through a subgraph or a quantization node); leave it out"
              + " with --exclude");
    }
  }

  private static int square(ConvPatches patches) {
    return Math.multiplyExact(patches.columns(), patches.columns());
  }

  private static NodeProto node(OnnxModel model, PrunableLayer layer) {
    return model.proto().getGraph().getNodeList().stream()
        .filter(n -> (n.getName().isEmpty() ? n.getOutput(0) : n.getName()).equals(layer.node()))
        .filter(n -> n.getOpType().equals(layer.opType()) && n.getInput(0).equals(layer.input()))
        .findFirst()
        .orElseThrow(() -> new SparsifyException("no node " + layer.node() + " in the model"));
  }
}
