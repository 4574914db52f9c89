package io.sparserollout.operator;

import io.sparserollout.api.v1alpha1.Condition;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.PhaseTransition;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds the status the operator wants to see, as a pure function of the resource and the clock.
 * Equal input gives an equal status, so the reconciler can skip the patch when nothing changed.
 */
public final class StatusAggregator {
  static final String READY = "Ready";
  private final Clock clock;

  public StatusAggregator(Clock clock) {
    this.clock = clock;
  }

  /** A generation not seen before enters Pending; one already observed keeps its status. */
  public SparseModelStatus acknowledge(SparseModel model) {
    long generation = model.getMetadata().getGeneration();
    SparseModelStatus current = model.getStatus();
    if (current != null && Objects.equals(current.getObservedGeneration(), generation)) {
      return current;
    }
    SparseModelStatus next = copyOf(current);
    next.setObservedGeneration(generation);
    next.setPhase(Phase.PENDING);
    String message = "Generation " + generation + " accepted; waiting for the pipeline";
    setCondition(next, READY, "False", "Pending", message, generation);
    appendHistory(next, new PhaseTransition(Phase.PENDING, next.getRevision(), now(), message));
    return next;
  }

  /** Replaces the condition of the same type; lastTransitionTime moves only when status does. */
  void setCondition(
      SparseModelStatus status,
      String type,
      String value,
      String reason,
      String message,
      long generation) {
    List<Condition> conditions = new ArrayList<>(status.getConditions());
    Condition previous =
        conditions.stream().filter(c -> type.equals(c.type())).findFirst().orElse(null);
    String since =
        previous != null && value.equals(previous.status()) ? previous.lastTransitionTime() : now();
    conditions.remove(previous);
    conditions.add(new Condition(type, value, reason, message, since, generation));
    status.setConditions(conditions);
  }

  static void appendHistory(SparseModelStatus status, PhaseTransition transition) {
    List<PhaseTransition> history = new ArrayList<>(status.getHistory());
    history.add(transition);
    int overflow = history.size() - SparseModelStatus.HISTORY_LIMIT;
    status.setHistory(new ArrayList<>(history.subList(Math.max(0, overflow), history.size())));
  }

  private static SparseModelStatus copyOf(SparseModelStatus current) {
    SparseModelStatus copy = new SparseModelStatus();
    if (current != null) {
      copy.setPhase(current.getPhase());
      copy.setObservedGeneration(current.getObservedGeneration());
      copy.setRevision(current.getRevision());
      copy.setConditions(new ArrayList<>(current.getConditions()));
      copy.setPruning(current.getPruning());
      copy.setGate(current.getGate());
      copy.setEngine(current.getEngine());
      copy.setRollout(current.getRollout());
      copy.setHistory(new ArrayList<>(current.getHistory()));
    }
    return copy;
  }

  private String now() {
    return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
