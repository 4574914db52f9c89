package io.sparserollout.sparsify.eval;

/** Dense against candidate on the same sentences. */
@com.fasterxml.jackson.annotation.JsonInclude(
    com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
public record EvaluationReport(
    int samples, Fidelity fidelity, Task task, Performance dense, Performance candidate) {

  /** Task metrics against labels, for both models; null without labels. */
  public record Task(int k, TaskMetrics.Scores dense, TaskMetrics.Scores candidate) {}

  /**
   * How closely the candidate's mean-pooled outputs follow the dense model's: cosine per sentence,
   * and whether each sentence's nearest neighbours among the others stay the same.
   */
  public record Fidelity(
      double cosineMean,
      double cosineMin,
      double cosineP5,
      double top1Agreement,
      double top5Overlap) {}

  /** Throughput and batch latency in ONNX Runtime on this machine. */
  public record Performance(
      int batchSize, double sentencesPerSecond, double batchLatencyMsP50, int threads) {}
}
