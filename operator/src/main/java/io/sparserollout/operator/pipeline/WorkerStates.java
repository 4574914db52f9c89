package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.stage.StageResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a stage run by several workers ({@link WorkerSet}) says, from each worker's Job and pods.
 * Worker 0 writes the result, and finishes only after every worker has; any worker's Job failing
 * fails the stage. When one worker stops, the others lose contact and stop too, so the message
 * names the worker whose pod stopped first, not merely the first Job to give up.
 */
public final class WorkerStates {
  /** One worker's Job (null: not created) and the pods it made. */
  public record Worker(int rank, Job job, List<Pod> pods) {}

  private WorkerStates() {}

  /** {@code workers} in rank order, worker 0 first. */
  public static StageState observe(
      List<Worker> workers, int expected, Class<? extends StageResult> type, Instant now) {
    List<StageState> states = new ArrayList<>();
    for (Worker worker : workers) {
      StageState state =
          worker.rank() == 0
              ? StageState.observe(worker.job(), worker.pods(), type, now)
              : helper(worker, type, now);
      states.add(state);
    }
    // Worker 0 finishes only after every worker has confirmed the last step: its result stands
    // whatever a worker does afterwards.
    if (!states.isEmpty() && states.get(0) instanceof StageState.Succeeded done) {
      return done;
    }
    for (int i = 0; i < workers.size(); i++) {
      if (states.get(i) instanceof StageState.Failed failed) {
        return failure(workers, workers.get(i).rank(), expected, failed.message());
      }
    }
    boolean complete = workers.size() == expected;
    for (int rank = 0; rank < expected && complete; rank++) {
      int wanted = rank;
      complete = workers.stream().anyMatch(w -> w.rank() == wanted && w.job() != null);
    }
    if (!complete) {
      // A Job the operator has not created yet (an earlier reconcile stopped part way):
      // starting again creates only what is missing. Not once worker 0 is done: a worker
      // created now could never join, and worker 0's result is on its way.
      return !workers.isEmpty() && finished(workers.get(0).job())
          ? new StageState.Running()
          : new StageState.NotStarted();
    }
    return states.stream()
        .filter(s -> s instanceof StageState.Blocked)
        .findFirst()
        .orElseGet(StageState.Running::new);
  }

  /** Worker N only says it is done: its Job's completion is progress, not the stage's result. */
  private static StageState helper(Worker worker, Class<? extends StageResult> type, Instant now) {
    return finished(worker.job())
        ? new StageState.Running()
        : StageState.observe(worker.job(), worker.pods(), type, now);
  }

  /** Whether the Job is Complete or Failed. */
  public static boolean ended(Job job) {
    return finished(job) || StageState.hasCondition(job, "Failed");
  }

  /** Whether the Job is Complete. */
  static boolean finished(Job job) {
    return StageState.hasCondition(job, "Complete");
  }

  private static StageState.Failed failure(
      List<Worker> workers, int gaveUp, int expected, String message) {
    String failed = "worker " + gaveUp + " of " + expected + ": " + message;
    // Each worker's latest failure only: an earlier round, which the set resumed from, is not
    // what ended this one.
    Optional<FirstStop> first =
        workers.stream()
            .map(
                w ->
                    w.pods().stream()
                        .map(p -> FirstStop.of(w.rank(), p))
                        .flatMap(Optional::stream)
                        .max(Comparator.comparing(FirstStop::at)))
            .flatMap(Optional::stream)
            .min(Comparator.comparing(FirstStop::at));
    if (first.isEmpty() || first.get().rank() == gaveUp) {
      return new StageState.Failed(failed);
    }
    return new StageState.Failed(
        "worker "
            + first.get().rank()
            + " of "
            + expected
            + " stopped first: "
            + first.get().message()
            + "; then "
            + failed);
  }

  /** A worker's pod that ended in failure, when and with what message. */
  private record FirstStop(int rank, Instant at, String message) {
    static Optional<FirstStop> of(int rank, Pod pod) {
      if (pod.getStatus() == null
          || !"Failed".equals(pod.getStatus().getPhase())
          || pod.getStatus().getContainerStatuses() == null) {
        return Optional.empty();
      }
      return pod.getStatus().getContainerStatuses().stream()
          .map(ContainerStatus::getState)
          .filter(s -> s != null && s.getTerminated() != null)
          .map(s -> s.getTerminated())
          .filter(t -> t.getFinishedAt() != null)
          .findFirst()
          .flatMap(t -> at(t).map(when -> new FirstStop(rank, when, describe(pod, t))));
    }

    private static Optional<Instant> at(ContainerStateTerminated terminated) {
      try {
        return Optional.of(Instant.parse(terminated.getFinishedAt()));
      } catch (java.time.DateTimeException e) {
        return Optional.empty();
      }
    }

    /** Reason and exit code first (the message may be a log's tail), then the message. */
    private static String describe(Pod pod, ContainerStateTerminated terminated) {
      String text = Objects.requireNonNullElse(terminated.getMessage(), "").strip();
      text = text.length() <= 1000 ? text : text.substring(0, 1000) + "...";
      return Objects.requireNonNullElse(terminated.getReason(), "Error")
          + " (exit code "
          + terminated.getExitCode()
          + ", pod "
          + pod.getMetadata().getName()
          + ")"
          + (text.isEmpty() ? "" : ": " + text);
    }
  }
}
