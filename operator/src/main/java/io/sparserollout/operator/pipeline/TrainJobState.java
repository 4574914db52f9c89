package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.stage.StageResult;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a fine-tune run by Kubeflow Trainer says. The TrainJob's conditions decide whether the stage
 * ended (its JobSet may restart a failed {@code node} Job, so that Job failing is not the end);
 * worker 0's pod (index 0 of the {@code node} Job) holds the result, as a stage Job's pod does.
 */
public final class TrainJobState {
  private TrainJobState() {}

  /**
   * @param trainJob the TrainJob (null: not created)
   * @param nodeJob its JobSet's {@code node} Job, as the informer has it (null: none yet)
   * @param pods the pods that Job made, every index
   */
  public static StageState observe(
      GenericKubernetesResource trainJob,
      Job nodeJob,
      List<Pod> pods,
      Class<? extends StageResult> type,
      Instant now) {
    if (trainJob == null) {
      return new StageState.NotStarted();
    }
    String name = trainJob.getMetadata().getName();
    Optional<Map<String, Object>> failed = condition(trainJob, "Failed");
    if (failed.isPresent()) {
      String why = describe(failed.get());
      // The worker that failed last says why, as a stage Job's pod would.
      StageState worker = StageState.observe(nodeJob, pods, type, now);
      return new StageState.Failed(
          "TrainJob "
              + name
              + " failed: "
              + why
              + (worker instanceof StageState.Failed f && !f.message().equals(why)
                  ? "; its node Job: " + f.message()
                  : ""));
    }
    if (condition(trainJob, "Complete").isPresent()) {
      StageState done = StageState.observe(nodeJob, workerZero(pods), type, now);
      if (done instanceof StageState.NotStarted) {
        return new StageState.Failed(
            "TrainJob "
                + name
                + " completed, but its "
                + TrainJobs.NODE
                + " Job, whose worker 0 holds the result, is gone");
      }
      return done instanceof StageState.Succeeded || done instanceof StageState.Failed
          ? done
          : new StageState.Running();
    }
    Optional<Map<String, Object>> suspended = condition(trainJob, "Suspended");
    if (suspended.isPresent()) {
      return new StageState.Blocked(
          "TrainJobSuspended",
          "TrainJob "
              + name
              + " is suspended (a queue admits it later): "
              + describe(suspended.get()));
    }
    // Running, or a node Job that failed and that its JobSet may start again.
    return StageBlockage.ofPods(pods).<StageState>map(b -> b).orElseGet(StageState.Running::new);
  }

  /** Worker 0's pods: index 0 of the indexed {@code node} Job. */
  public static List<Pod> workerZero(List<Pod> pods) {
    return pods.stream().filter(p -> "0".equals(index(p))).toList();
  }

  private static String index(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(TrainJobs.COMPLETION_INDEX);
    if (value == null && pod.getMetadata().getLabels() != null) {
      value = pod.getMetadata().getLabels().get(TrainJobs.COMPLETION_INDEX);
    }
    return value;
  }

  /** The condition {@code type} when it is True. */
  @SuppressWarnings("unchecked")
  static Optional<Map<String, Object>> condition(GenericKubernetesResource trainJob, String type) {
    Object status = trainJob.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> fields)
        || !(fields.get("conditions") instanceof List<?> conditions)) {
      return Optional.empty();
    }
    return conditions.stream()
        .filter(c -> c instanceof Map<?, ?>)
        .map(c -> (Map<String, Object>) c)
        .filter(c -> type.equals(c.get("type")) && "True".equals(c.get("status")))
        .findFirst();
  }

  private static String describe(Map<String, Object> condition) {
    Object reason = condition.get("reason");
    Object message = condition.get("message");
    return (reason == null ? "" : reason + ": ") + (message == null ? "" : message);
  }
}
