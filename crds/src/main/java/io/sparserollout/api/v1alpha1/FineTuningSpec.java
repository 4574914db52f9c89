package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Sparse fine-tuning / QAT budget. */
public record FineTuningSpec(
    @Default("true")
        @JsonPropertyDescription(
            "Distil from the frozen dense model (teacher) into the sparse model (student). false:"
                + " train on the task loss from labelsUri alone.")
        Boolean distillation,
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of labels, one per line aligned with spec.sparsity.calibration.dataUri (the"
                + " training sentences): adds a task loss, a cosine classifier on the sentence"
                + " embeddings that is dropped at export. Required when distillation is false."
                + " Encoders only: classifiers, rankers and models of tensors distil their outputs.")
        String labelsUri,
    @Default("2200") @Min(1) @Max(1000000) @JsonPropertyDescription("Training steps.")
        Integer steps,
    @Default("32") @Min(1) @Max(4096) @JsonPropertyDescription("Samples per training step.")
        Integer batchSize,
    @Default("4.0E-4")
        @Min(1e-9)
        @Max(1)
        @JsonPropertyDescription(
            "Peak AdamW learning rate. The default suits encoders and classifiers; a ranker's"
                + " scores drifted at it and recovered at 3e-5 (docs/benchmarks.md).")
        Double learningRate,
    @JsonPropertyDescription("CPU and memory for each fine-tuning worker's container.")
        ComputeResources resources,
    @Default("1")
        @Min(1)
        @Max(64)
        @JsonPropertyDescription(
            "Data-parallel workers (pods), each training on its share of every batch with"
                + " gradients summed through PyTorch c10d (Gloo): the steps and results are those"
                + " of one worker. More than 1 needs claims every node can mount (the store's"
                + " ReadWriteMany, the others ReadWriteMany or ReadOnlyMany; or S3) and batchSize"
                + " at least workers.")
        Integer workers,
    @JsonPropertyDescription(
            "Run the fine-tuning as a Kubeflow Trainer TrainJob (trainer.kubeflow.org/v1alpha1,"
                + " Trainer 2.2 or newer) of workers nodes, so the cluster's queues and quotas for"
                + " training apply; the model waits, StageBlocked, until the TrainJob CRD is"
                + " installed. Absent: the operator runs the workers as its own Jobs.")
        TrainJobSpec trainJob) {
  /** One worker unless the spec asks for more (null before defaults apply). */
  public int workerCount() {
    return workers == null ? 1 : workers;
  }
}
