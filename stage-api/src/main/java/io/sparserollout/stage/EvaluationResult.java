package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Dense against candidate on the same sentences. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvaluationResult(
    Integer samples,
    Fidelity fidelity,
    Task task,
    Performance dense,
    Performance candidate,
    List<VariantQuality> variants,
    CapturedData captured)
    implements StageResult {

  /** The same, read from captured samples. */
  public EvaluationResult withCaptured(CapturedData data) {
    return new EvaluationResult(samples, fidelity, task, dense, candidate, variants, data);
  }

  /** An extra variant against the same dense outputs: fidelity, and task scores with labels. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record VariantQuality(String name, Fidelity fidelity, Scores scores) {}

  /**
   * How closely the candidate's mean-pooled outputs follow the dense model's: cosine per sentence,
   * and whether each sentence's nearest neighbours among the others stay the same.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Fidelity(
      Double cosineMean,
      Double cosineMin,
      Double cosineP5,
      Double top1Agreement,
      Double top5Overlap) {}

  /** Task metrics against labels, for both models; absent without labels. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Task(Integer k, Scores dense, Scores candidate) {}

  /** Label accuracy, NDCG@k and pairwise ranking (PNR) of one model. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Scores(Double accuracy, Double ndcg, Double pnr) {}

  /** Throughput and batch latency in ONNX Runtime on the machine that ran the stage. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Performance(
      Integer batchSize, Double sentencesPerSecond, Double batchLatencyMsP50, Integer threads) {}
}
