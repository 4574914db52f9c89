package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Activations;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * SparseGPT over a whole model, layer group by layer group in graph order. Layers that read the
 * same activation (e.g. query, key and value) share one Hessian; each group is calibrated on
 * activations computed through the already pruned earlier layers, as in the paper.
 */
public final class SparseGptPruner implements Pruner {
  private final List<TokenBatch> calibration;
  private final int threads;
  private final Consumer<String> progress;

  public SparseGptPruner(List<TokenBatch> calibration, int threads, Consumer<String> progress) {
    if (calibration.isEmpty()) {
      throw new SparsifyException("sparsegpt needs calibration sentences");
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
    for (var group : groups.entrySet()) {
      List<PrunableLayer> members = group.getValue();
      if (!members.get(0).opType().equals("MatMul") && !members.get(0).opType().equals("Gemm")) {
        // A convolution's Hessian needs its unfolded (im2col) input: not implemented yet.
        new MagnitudePruner().prune(model, members);
      } else {
        double[] hessian = hessian(model, group.getKey(), members.get(0).reduction());
        for (PrunableLayer layer : members) {
          float[] w = Pruner.rows(model.floats(layer.weight()), layer);
          SparseGpt.prune(w, layer.rows(), layer.reduction(), hessian.clone());
          model.setFloats(layer.weight(), Pruner.fromRows(w, layer));
        }
      }
      done++;
      progress.accept(
          String.format(
              "sparsegpt: %d/%d layer groups (%s), %.0f s",
              done, groups.size(), members.get(0).weight(), (System.nanoTime() - started) / 1e9));
    }
  }

  /** Sum over calibration tokens of x x^T, x being the activation the group multiplies. */
  private double[] hessian(OnnxModel model, String activation, int k) {
    double[] hessian = new double[k * k];
    try (OrtModel capture = OrtModel.openForCapture(model.toBytes(List.of(activation)), threads)) {
      for (TokenBatch batch : calibration) {
        OrtModel.FloatTensor x = capture.run(batch, Set.of(activation)).get(activation);
        float[] rows = Activations.realTokenRows(x, batch, k);
        Torch.addGram(hessian, rows, rows.length / k, k);
      }
    }
    return hessian;
  }
}
