package io.sparserollout.sparsify.engine;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The built engine. Field names match SparseModel status.engine. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EngineReport(
    String backend,
    String precision,
    String runtimeVersion,
    String tensorrtVersion,
    String gpuProduct,
    Integer sparseLayers,
    String output,
    int batch,
    int sequence,
    double denseLatencyMs,
    double latencyMs,
    double speedup) {

  /** The same report naming the output as the user gave it (an s3:// URI, say). */
  public EngineReport withOutput(String location) {
    return new EngineReport(
        backend,
        precision,
        runtimeVersion,
        tensorrtVersion,
        gpuProduct,
        sparseLayers,
        location,
        batch,
        sequence,
        denseLatencyMs,
        latencyMs,
        speedup);
  }
}
