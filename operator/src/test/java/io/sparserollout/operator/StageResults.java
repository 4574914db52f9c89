package io.sparserollout.operator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.EvaluationResult;
import io.sparserollout.stage.PruneResult;
import io.sparserollout.stage.StageResult;
import java.util.List;

/**
 * Stage results as sparsify writes them (the same stage-api records, as JSON), for the played pods'
 * termination messages.
 */
public final class StageResults {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The digests the stand-in stages report for what they wrote. */
  public static final String PRUNED_SHA256 = "1".repeat(64);

  public static final String ENGINE_SHA256 = "e".repeat(64);

  public static final String PRUNED =
      json(new PruneResult("sparsegpt", null, 36, List.of(), 0, 0.5, 10.0, PRUNED_SHA256, null));
  public static final String ENGINE =
      json(
          new EngineResult(
              "onnxruntime",
              "fp32",
              "1.29.0",
              null,
              null,
              null,
              null,
              8,
              128,
              2.0,
              1.96,
              1.02,
              ENGINE_SHA256,
              null));
  public static final String EVALUATED_GOOD = json(evaluation(0.9037, 0.665));
  public static final String EVALUATED_BAD = json(evaluation(0.6004, 0.385));

  private StageResults() {}

  /** A TensorRT engine as the stage reports it: the GPU by CUDA's name. */
  public static String tensorRtEngine(String cudaName, String sha256) {
    return json(
        new EngineResult(
            "tensorrt",
            "fp16",
            "10.15.1",
            "10.15.1",
            cudaName,
            36,
            null,
            8,
            128,
            2.0,
            1.0,
            2.0,
            sha256,
            null));
  }

  public static EvaluationResult evaluation(double cosineMean, double top5Overlap) {
    return new EvaluationResult(
        300,
        new EvaluationResult.Fidelity(cosineMean, null, null, null, top5Overlap),
        null,
        null,
        null,
        null,
        null);
  }

  public static String json(StageResult result) {
    try {
      return JSON.writeValueAsString(result);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
