package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

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
    String sha256,
    List<VariantEngine> variants)
    implements StageResult {

  /**
   * One variant's engine, in {@code <out>/<name>/}, and its timing at each shape (the first is the
   * profile's opt shape). Paths stay out: the termination message has 4 KiB.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record VariantEngine(
      String name, String sha256, Integer sparseLayers, List<Timing> timings) {}

  /**
   * Warm timing at one shape: latency percentiles over every timed run, throughput at the median,
   * the spread ((max - min) / median) of the repetitions' median throughputs, and those throughputs
   * in the order the repetitions ran: every variant's repetition k ran at the same moment, so two
   * variants compare repetition by repetition (null from older stage images).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Timing(
      int batch,
      int sequence,
      int runs,
      double p50Ms,
      double p99Ms,
      double perSecond,
      double spread,
      List<Double> perSecondByRepetition) {}

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
        sha256,
        variants);
  }
}
