package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** What pruning did; {@code layersSkipped} holds the first few, {@code layersSkippedCount} all. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PruneResult(
    String method,
    String output,
    Integer layersPruned,
    List<SkippedLayer> layersSkipped,
    Integer layersSkippedCount,
    Double achievedSparsity,
    Double seconds,
    String sha256,
    CapturedData captured)
    implements StageResult {

  /** A weight left dense, and why. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SkippedLayer(String weight, String reason) {}
}
