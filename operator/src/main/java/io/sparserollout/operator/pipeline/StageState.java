package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.sparserollout.stage.StageResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** What a stage's Job and its pods say about the stage. */
public sealed interface StageState {
  ObjectMapper JSON = new ObjectMapper();

  record NotStarted() implements StageState {}

  record Running() implements StageState {}

  /**
   * Running, but the cluster cannot create, schedule or start its pod ({@link StageBlockage}): a
   * reason such as ImagePullBackOff and the cluster's message. It may still recover (a quota freed,
   * an image pushed), so it is not a failure; the stage's deadline bounds it.
   */
  record Blocked(String reason, String message) implements StageState {}

  /** The stage's result, read from its container's termination message. */
  record Succeeded(StageResult result) implements StageState {}

  record Failed(String message) implements StageState {}

  /**
   * Finished earlier, its result already in status ({@code status.completedStages}): not judged
   * again, whatever became of its Job and pods since.
   */
  record Recorded() implements StageState {}

  /**
   * How long a Complete Job may show no succeeded pod before its result counts as lost: the pod
   * informer can lag the Job informer, so a Job is often seen Complete before its pod is.
   */
  Duration POD_LAG_ALLOWED = Duration.ofMinutes(2);

  /** Reads a Job (null: not created) and the pods it made; a result must read as {@code type}. */
  static StageState observe(Job job, List<Pod> pods, Class<? extends StageResult> type) {
    return observe(job, pods, type, Instant.now());
  }

  static StageState observe(
      Job job, List<Pod> pods, Class<? extends StageResult> type, Instant now) {
    if (job == null) {
      return new NotStarted();
    }
    if (hasCondition(job, "Complete")) {
      if (newest(pods, "Succeeded").isEmpty()) {
        String completed = job.getStatus().getCompletionTime();
        boolean lost =
            completed != null && Instant.parse(completed).plus(POD_LAG_ALLOWED).isBefore(now);
        return lost
            ? new Failed(
                "the stage finished but its pod is gone (deleted before its result was read)")
            : new Running();
      }
      Optional<String> message = terminationMessage(pods, "Succeeded");
      if (message.isEmpty()) {
        return new Failed("the stage finished but left no result in its termination message");
      }
      try {
        StageResult result = JSON.readValue(message.get(), type);
        if (result == null) {
          throw new IllegalArgumentException("null");
        }
        Optional<String> notFinite = nonFinite(JSON.readTree(message.get()), "");
        if (notFinite.isPresent()) {
          return new Failed(
              "the stage finished but its result's "
                  + notFinite.get()
                  + " is not a finite number: "
                  + abbreviate(message.get()));
        }
        return new Succeeded(result);
      } catch (Exception e) {
        return new Failed(
            "the stage finished but its result does not read as a "
                + type.getSimpleName()
                + ": "
                + abbreviate(message.get()));
      }
    }
    if (hasCondition(job, "Failed")) {
      String reason =
          job.getStatus().getConditions().stream()
              .filter(c -> "Failed".equals(c.getType()))
              .map(c -> c.getReason() + ": " + c.getMessage())
              .findFirst()
              .orElse("failed");
      return new Failed(
          terminationMessage(pods, "Failed")
              .map(m -> abbreviate(m.strip()) + " (" + reason + ")")
              .orElse(reason));
    }
    return StageBlockage.ofPods(pods).<StageState>map(b -> b).orElseGet(Running::new);
  }

  /**
   * The first number that is not finite (1e400 reads as infinity), by its path: status cannot hold
   * it, and a gate must not judge it.
   */
  private static Optional<String> nonFinite(
      com.fasterxml.jackson.databind.JsonNode node, String path) {
    if (node.isNumber()) {
      return Double.isFinite(node.asDouble()) ? Optional.empty() : Optional.of(path);
    }
    var fields = node.fields();
    while (fields.hasNext()) {
      var field = fields.next();
      Optional<String> found =
          nonFinite(
              field.getValue(), path.isEmpty() ? field.getKey() : path + "." + field.getKey());
      if (found.isPresent()) {
        return found;
      }
    }
    for (int i = 0; node.isArray() && i < node.size(); i++) {
      Optional<String> found = nonFinite(node.get(i), path + "[" + i + "]");
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  /** Whether the Job (null: none) has the condition {@code type} True. */
  static boolean hasCondition(Job job, String type) {
    return job != null
        && job.getStatus() != null
        && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream()
            .anyMatch((JobCondition c) -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The newest pod in the given phase. */
  private static Optional<Pod> newest(List<Pod> pods, String phase) {
    return pods.stream()
        .filter(p -> p.getStatus() != null && phase.equals(p.getStatus().getPhase()))
        .max(
            Comparator.comparing(
                p ->
                    p.getMetadata().getCreationTimestamp() == null
                        ? ""
                        : p.getMetadata().getCreationTimestamp()));
  }

  /** The termination message of the newest pod in the given phase. */
  private static Optional<String> terminationMessage(List<Pod> pods, String phase) {
    return newest(pods, phase)
        .flatMap(
            p ->
                p.getStatus().getContainerStatuses() == null
                    ? Optional.empty()
                    : p.getStatus().getContainerStatuses().stream()
                        .map(ContainerStatus::getState)
                        .filter(s -> s != null && s.getTerminated() != null)
                        .map(s -> s.getTerminated())
                        .map(ContainerStateTerminated::getMessage)
                        .filter(m -> m != null && !m.isBlank())
                        .findFirst());
  }

  private static String abbreviate(String text) {
    return text.length() <= 1000 ? text : text.substring(0, 1000) + "...";
  }
}
