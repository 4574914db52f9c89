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
    double speedup) {}
