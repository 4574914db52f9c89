package io.sparserollout.sparsify.prune;

import io.sparserollout.sparsify.onnx.LayerFinder.Skipped;
import java.util.List;

/** What pruning did. Field names match SparseModel status.pruning. */
public record PruneReport(
    String method,
    String output,
    int layersPruned,
    List<Skipped> layersSkipped,
    double achievedSparsity,
    double seconds) {

  /** The same report naming the output as the user gave it (an s3:// URI, say). */
  public PruneReport withOutput(String location) {
    return new PruneReport(
        method, location, layersPruned, layersSkipped, achievedSparsity, seconds);
  }
}
