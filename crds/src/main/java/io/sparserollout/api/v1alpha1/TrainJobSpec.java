package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** Fine-tuning run by Kubeflow Trainer as one TrainJob instead of the operator's own Jobs. */
public record TrainJobSpec(
    @Default("torch-distributed")
        @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        @JsonPropertyDescription(
            "The training runtime the TrainJob refers to: a PyTorch runtime whose node container"
                + " leaves the command to the image (Kubeflow Trainer's torch-distributed does)."
                + " The operator's setting sparserollout.job.trainjob-runtimes lists those"
                + " allowed (default: torch-distributed).")
        String runtime,
    @Default("ClusterTrainingRuntime")
        @JsonPropertyDescription(
            "ClusterTrainingRuntime (cluster-wide), or TrainingRuntime (in the model's namespace).")
        RuntimeKind runtimeKind,
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        @JsonPropertyDescription(
            "Kueue LocalQueue to submit the TrainJob to (its kueue.x-k8s.io/queue-name label)."
                + " Absent: none, and Kueue admits it only where it manages jobs without a queue"
                + " name.")
        String queueName) {

  public enum RuntimeKind {
    @JsonProperty("ClusterTrainingRuntime")
    CLUSTER_TRAINING_RUNTIME,
    @JsonProperty("TrainingRuntime")
    TRAINING_RUNTIME
  }

  /** The runtime's name, with its default where the spec was read before defaults apply. */
  public String runtimeName() {
    return runtime == null ? "torch-distributed" : runtime;
  }

  /** The runtime's kind as the TrainJob names it. */
  public String kind() {
    return runtimeKind == RuntimeKind.TRAINING_RUNTIME
        ? "TrainingRuntime"
        : "ClusterTrainingRuntime";
  }
}
