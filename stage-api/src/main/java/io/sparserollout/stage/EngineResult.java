package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** The built engine and its latency against the dense model at the profile's opt shape. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record EngineResult(
    String backend,
    String precision,
    String runtimeVersion,
    String tensorrtVersion,
    String gpuProduct,
    Integer sparseLayers,
    String output,
    Integer batch,
    Integer sequence,
    Double denseLatencyMs,
    Double latencyMs,
    Double speedup,
    String sha256)
    implements StageResult {

  /** The same result naming the output as the user gave it (an s3:// URI, say). */
  public EngineResult withOutput(String location) {
    return new EngineResult(
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
        speedup,
        sha256);
  }
}
