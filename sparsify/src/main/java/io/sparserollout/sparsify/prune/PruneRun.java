package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Load, select layers, prune, record the claim in metadata, save. */
public final class PruneRun {
  /** Metadata key listing the weights pruned to 2:4; verify checks every claim. */
  public static final String SPARSE_LAYERS_KEY = "sparserollout.2to4_layers";

  private PruneRun() {}

  public static PruneReport run(OnnxModel model, LayerFinder finder, Pruner pruner, Path out) {
    long started = System.nanoTime();
    LayerFinder.Layers layers = finder.find(model);
    if (layers.prunable().isEmpty()) {
      throw new SparsifyException(
          "the model has no prunable layers (MatMul/Gemm/Conv with a constant float weight whose"
              + " K is a multiple of 4); skipped: "
              + layers.skipped().size());
    }
    pruner.prune(model, layers.prunable());
    long zeros = 0;
    long total = 0;
    for (PrunableLayer layer : layers.prunable()) {
      float[] w = model.floats(layer.weight());
      zeros += Math.round(TwoFour.zeroFraction(w) * w.length);
      total += w.length;
    }
    model.putMetadata(
        SPARSE_LAYERS_KEY,
        layers.prunable().stream().map(PrunableLayer::weight).collect(Collectors.joining(",")));
    model.save(out);
    return new PruneReport(
        pruner.method(),
        out.toString(),
        layers.prunable().size(),
        List.copyOf(layers.skipped()),
        total == 0 ? 0 : (double) zeros / total,
        (System.nanoTime() - started) / 1e9);
  }
}
