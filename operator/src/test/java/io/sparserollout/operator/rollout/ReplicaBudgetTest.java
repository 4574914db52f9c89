package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaBudgetTest {

  @Test
  void withOneExtraPodTheCanaryGrowsIntoTheRoomAndTheStableShrinksAsItsPodsAreReady() {
    // 4 replicas, 50%: stable 4 -> 2, canary 0 -> 2, never more than 5 pods.
    assertThat(ReplicaBudget.next(5, 2, 0, 2, 4, 0)).isEqualTo(new ReplicaBudget(1, 4));
    assertThat(ReplicaBudget.next(5, 2, 1, 2, 4, 0)).isEqualTo(new ReplicaBudget(2, 3));
    assertThat(ReplicaBudget.next(5, 2, 2, 2, 3, 0)).isEqualTo(new ReplicaBudget(2, 2));
  }

  @Test
  void withNoExtraPodTheStableGivesUpOnePodAtATimeAndNeverItsLastWhileNothingElseServes() {
    assertThat(ReplicaBudget.next(4, 2, 0, 2, 4, 0)).isEqualTo(new ReplicaBudget(1, 3));
    assertThat(ReplicaBudget.next(4, 2, 0, 2, 3, 0)).isEqualTo(new ReplicaBudget(1, 3));
    assertThat(ReplicaBudget.next(4, 2, 1, 2, 3, 0)).isEqualTo(new ReplicaBudget(2, 2));
    // Promotion with 1 replica and no budget: the old stable keeps its pod until the new one's is
    // Ready.
    assertThat(ReplicaBudget.next(1, 1, 0, 0, 1, 0)).isEqualTo(new ReplicaBudget(0, 1));
    assertThat(ReplicaBudget.next(2, 2, 0, 0, 1, 0)).isEqualTo(new ReplicaBudget(1, 1));
  }

  @Test
  void aStableOverTheCapIsBroughtDownToWhatFitsBesideTheReadyCanary() {
    // A smaller budget than when the stable was sized: 6 pods, cap 5.
    assertThat(ReplicaBudget.next(5, 2, 0, 2, 6, 0)).isEqualTo(new ReplicaBudget(1, 4));
    assertThat(ReplicaBudget.next(5, 2, 1, 2, 4, 0)).isEqualTo(new ReplicaBudget(2, 3));
  }

  @Test
  void aModelARouteStillSendsTrafficToKeepsAPodWhateverTheBudget() {
    // 2 replicas, no budget, a step to 100% behind an HTTPRoute still at 50%: the stable keeps its
    // pod; the canary waits (and its progress deadline decides).
    assertThat(ReplicaBudget.next(2, 2, 1, 0, 1, 1)).isEqualTo(new ReplicaBudget(1, 1));
    assertThat(ReplicaBudget.next(2, 2, 1, 0, 1, 0)).isEqualTo(new ReplicaBudget(2, 0));
  }

  /** Every budget, size and weight, pods becoming Ready as asked: the cap holds at every step. */
  @Test
  void theCapHoldsAndTheTargetsAreReachedForEveryBudget() {
    for (int replicas = 1; replicas <= 6; replicas++) {
      for (int extra = replicas == 1 ? 1 : 0; extra <= 3; extra++) {
        int cap = replicas + extra;
        for (int canary = 1; canary < replicas; canary++) {
          int stable = replicas - canary;
          int growing = 0;
          int shrinking = replicas;
          List<String> steps = new ArrayList<>();
          for (int i = 0; i < 20 && (growing != canary || shrinking != stable); i++) {
            ReplicaBudget next = ReplicaBudget.next(cap, canary, growing, stable, shrinking, 0);
            steps.add(next.toString());
            assertThat(next.growing() + next.shrinking())
                .as(steps.toString())
                .isLessThanOrEqualTo(cap);
            assertThat(next.shrinking() + growing).as(steps.toString()).isPositive();
            growing = next.growing(); // the kubelet makes them Ready by the next look
            shrinking = next.shrinking();
          }
          assertThat(growing).as(steps.toString()).isEqualTo(canary);
          assertThat(shrinking).as(steps.toString()).isEqualTo(stable);
        }
      }
    }
  }
}
