package io.sparserollout.stage;

/**
 * What a stage reports when it succeeds: sparsify writes one of these as compact JSON (its
 * container's termination message, at most {@link Cli#TERMINATION_MESSAGE_LIMIT} bytes) and the
 * operator reads it back into the same record. Readers ignore fields they do not know, so a newer
 * sparsify may add some; a number that is absent reads as null, never as 0.
 */
public sealed interface StageResult
    permits PruneResult,
        FineTuneResult,
        QuantizeResult,
        EngineResult,
        EvaluationResult,
        FetchResult {

  /**
   * The SHA-256 of the model the stage wrote ({@link Sha256}; for an engine, the file served), or
   * null for a stage that writes none.
   */
  default String sha256() {
    return null;
  }
}
