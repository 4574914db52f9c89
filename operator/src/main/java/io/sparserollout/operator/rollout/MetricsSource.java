package io.sparserollout.operator.rollout;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/** Where the canary's counters come from: its pods directly, or Prometheus. */
public interface MetricsSource {

  /**
   * @param deployment the canary Deployment's name (its pods' name prefix)
   * @param pods the canary's ready pods
   */
  Measurement measure(String namespace, String deployment, List<Pod> pods)
      throws MetricsUnavailable;

  /** The metrics could not be read now; the analysis is inconclusive, not failed. */
  final class MetricsUnavailable extends Exception {
    public MetricsUnavailable(String message) {
      super(message);
    }
  }
}
