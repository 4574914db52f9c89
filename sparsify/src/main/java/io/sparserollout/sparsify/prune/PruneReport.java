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
    double seconds) {}
