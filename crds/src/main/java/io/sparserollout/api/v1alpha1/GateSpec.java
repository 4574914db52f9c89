package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Accuracy (and optional speed) gate between evaluation and rollout. */
public record GateSpec(
    @Default("cosine-fidelity")
        @JsonPropertyDescription(
            "cosine-fidelity: mean cosine of sparse to dense outputs (dense scores 1.0; a"
                + " ranker's scores per query, less their mean). top1-agreement: share of samples"
                + " whose top answer is the dense model's (an embedding's nearest neighbour, a"
                + " classifier's class, a ranker's first document of a query). topk-agreement:"
                + " overlap of the top 5 (neighbours, classes: all but one below 6 classes, or a"
                + " query's documents). accuracy: against labels (1-NN for embeddings, the"
                + " predicted class for classifiers, the best grade first for rankers). ndcg,"
                + " pnr: ranking metrics against labels (embeddings ranked by similarity; a"
                + " ranker's documents per query against graded labels).")
        Metric metric,
    @Default("0.05")
        @Min(0)
        @Max(1)
        @JsonPropertyDescription(
            "Largest allowed drop of the metric from the dense baseline, as a fraction of 1 or of"
                + " the baseline (see dropType).")
        Double maxDrop,
    @Default("absolute")
        @JsonPropertyDescription(
            "absolute: dense - sparse <= maxDrop. relative: (dense - sparse) / dense <= maxDrop.")
        DropType dropType,
    @Min(0)
        @JsonPropertyDescription(
            "If set, the sparse engine must be at least this many times faster than the dense one"
                + " on the same hardware, e.g. 1.2.")
        Double minSpeedup,
    @Default("all")
        @JsonPropertyDescription(
            "With spec.evaluation.sets: all: every set must pass on its own. mean: the mean of the"
                + " sets' metric must pass.")
        PerSet perSet) {

  /** How the gate combines named held-out sets; absent means all. */
  public PerSet perSetOrDefault() {
    return perSet == null ? PerSet.ALL : perSet;
  }

  public enum PerSet {
    @JsonProperty("all")
    ALL,
    @JsonProperty("mean")
    MEAN
  }

  public enum Metric {
    @JsonProperty("cosine-fidelity")
    COSINE_FIDELITY,
    @JsonProperty("top1-agreement")
    TOP1_AGREEMENT,
    @JsonProperty("topk-agreement")
    TOPK_AGREEMENT,
    @JsonProperty("accuracy")
    ACCURACY,
    @JsonProperty("ndcg")
    NDCG,
    @JsonProperty("pnr")
    PNR
  }

  public enum DropType {
    @JsonProperty("absolute")
    ABSOLUTE,
    @JsonProperty("relative")
    RELATIVE
  }
}
