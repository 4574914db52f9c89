package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.sparserollout.stage.PruneResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageBlockageTest {
  private static final Job RUNNING =
      new JobBuilder()
          .withNewMetadata()
          .withName("j")
          .endMetadata()
          .withNewStatus()
          .endStatus()
          .build();

  @Test
  void aContainerTheKubeletCannotStartBlocksTheStageWithItsReason() {
    for (String reason :
        List.of("ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError")) {
      assertThat(StageState.observe(RUNNING, List.of(waiting(reason, "why")), PruneResult.class))
          .isEqualTo(new StageState.Blocked(reason, "pod p: why"));
    }
  }

  @Test
  void aPodStillBeingCreatedOrRunningIsNotBlocked() {
    assertThat(
            StageState.observe(
                RUNNING, List.of(waiting("ContainerCreating", "")), PruneResult.class))
        .isInstanceOf(StageState.Running.class);
    assertThat(StageState.observe(RUNNING, List.of(), PruneResult.class))
        .isInstanceOf(StageState.Running.class);
  }

  @Test
  void anUnschedulablePodBlocksTheStageWithTheSchedulersMessage() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("p")
            .endMetadata()
            .withNewStatus()
            .withPhase("Pending")
            .addNewCondition()
            .withType("PodScheduled")
            .withStatus("False")
            .withReason("Unschedulable")
            .withMessage("0/3 nodes are available: persistentvolumeclaim \"models\" not found.")
            .endCondition()
            .endStatus()
            .build();

    assertThat(StageState.observe(RUNNING, List.of(pod), PruneResult.class))
        .isEqualTo(
            new StageState.Blocked(
                "Unschedulable",
                "pod p: 0/3 nodes are available: persistentvolumeclaim \"models\" not found."));
  }

  @Test
  void theNewestFailedCreateOfTheJobSaysWhyItHasNoPod() {
    List<Event> events =
        List.of(
            event("Normal", "SuccessfulCreate", "Created pod", "2026-01-01T00:00:09Z"),
            event("Warning", "FailedCreate", "exceeded quota: old", "2026-01-01T00:00:01Z"),
            event("Warning", "FailedCreate", "exceeded quota: new", "2026-01-01T00:00:05Z"));

    assertThat(StageBlockage.ofJobEvents(events))
        .contains(new StageState.Blocked("FailedCreate", "exceeded quota: new"));
    assertThat(StageBlockage.ofJobEvents(events.subList(0, 1))).isEmpty();
  }

  private static Pod waiting(String reason, String message) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .endMetadata()
        .withNewStatus()
        .withPhase("Pending")
        .addNewContainerStatus()
        .withName("sparsify")
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .withMessage(message)
        .endWaiting()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  private static Event event(String type, String reason, String message, String last) {
    return new EventBuilder()
        .withType(type)
        .withReason(reason)
        .withMessage(message)
        .withLastTimestamp(last)
        .build();
  }
}
