package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Why a running stage's Job makes no progress although nothing has failed: the cluster refuses to
 * create its pod (quota, admission), cannot schedule it (no node fits, a missing PVC) or cannot
 * start its container (image pull, a missing Secret). Kubernetes retries each of these for ever, so
 * without this the stage would hang silently.
 */
public final class StageBlockage {
  private StageBlockage() {}

  /** Container waiting reasons that need someone to act; "ContainerCreating" is progress. */
  static final Set<String> STUCK_WAITING =
      Set.of(
          "ErrImagePull",
          "ImagePullBackOff",
          "InvalidImageName",
          "ErrImageNeverPull",
          "CreateContainerConfigError",
          "CreateContainerError",
          "RunContainerError");

  /** The first pending pod's reason for not starting, if any. */
  public static Optional<StageState.Blocked> ofPods(List<Pod> pods) {
    for (Pod pod : pods) {
      if (pod.getStatus() == null
          || pod.getMetadata().getDeletionTimestamp() != null
          || !"Pending".equals(pod.getStatus().getPhase())) {
        continue;
      }
      String name = pod.getMetadata().getName();
      Optional<StageState.Blocked> waiting =
          Stream.concat(
                  stream(pod.getStatus().getInitContainerStatuses()),
                  stream(pod.getStatus().getContainerStatuses()))
              .filter(s -> s.getState() != null && s.getState().getWaiting() != null)
              .map(s -> s.getState().getWaiting())
              .filter(w -> STUCK_WAITING.contains(w.getReason()))
              .map(
                  w -> new StageState.Blocked(w.getReason(), "pod " + name + ": " + w.getMessage()))
              .findFirst();
      if (waiting.isPresent()) {
        return waiting;
      }
      Optional<StageState.Blocked> unschedulable =
          stream(pod.getStatus().getConditions())
              .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()))
              .filter(c -> "Unschedulable".equals(c.getReason()))
              .map(
                  (PodCondition c) ->
                      new StageState.Blocked(c.getReason(), "pod " + name + ": " + c.getMessage()))
              .findFirst();
      if (unschedulable.isPresent()) {
        return unschedulable;
      }
    }
    return Optional.empty();
  }

  /** The newest FailedCreate the Job controller recorded for the Job: its pod was refused. */
  public static Optional<StageState.Blocked> ofJobEvents(List<Event> events) {
    return events.stream()
        .filter(e -> "FailedCreate".equals(e.getReason()) && "Warning".equals(e.getType()))
        .max(Comparator.comparing(StageBlockage::lastSeen))
        .map(e -> new StageState.Blocked("FailedCreate", e.getMessage()));
  }

  /** When the event last happened (RFC 3339), "" when it says nothing. */
  public static String lastSeen(Event event) {
    String last = event.getLastTimestamp();
    if (last == null && event.getEventTime() != null) {
      last = event.getEventTime().getTime();
    }
    return last == null ? "" : last;
  }

  private static <T> Stream<T> stream(List<T> list) {
    return list == null ? Stream.empty() : list.stream();
  }
}
