package io.sparserollout.sparsify.eval;

/** Dense against candidate on the same sentences. */
public record EvaluationReport(
    int samples, Fidelity fidelity, Performance dense, Performance candidate) {

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
