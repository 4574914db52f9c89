package io.sparserollout.operator.rollout;

import io.sparserollout.api.v1alpha1.CanaryStep;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import java.time.Duration;
import java.util.List;

/** The canary steps of a spec, with the documented default when it lists none. */
public record CanaryPlan(List<CanaryStep> steps) {
  static final List<CanaryStep> DEFAULT =
      List.of(new CanaryStep(10, "1m"), new CanaryStep(50, "1m"), new CanaryStep(100, "1m"));

  public static CanaryPlan of(RolloutSpec rollout) {
    List<CanaryStep> steps = rollout.canary() == null ? null : rollout.canary().steps();
    return new CanaryPlan(steps == null || steps.isEmpty() ? DEFAULT : List.copyOf(steps));
  }

  /** The step at {@code index}, clamped: a spec edited mid-canary may have fewer steps. */
  public CanaryStep step(int index) {
    return steps.get(Math.min(index, steps.size() - 1));
  }

  public boolean isLast(int index) {
    return index >= steps.size() - 1;
  }

  public Duration pause(int index) {
    return GoDuration.parse(step(index).pause() == null ? "1m" : step(index).pause());
  }
}
