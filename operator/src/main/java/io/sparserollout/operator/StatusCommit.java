package io.sparserollout.operator;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.events.EventRecorder;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * Writes a reconcile's status once, when it changed, then its events. The write is optimistic and
 * never retried here: a reconcile that started from a stale copy fails with a conflict and JOSDK
 * runs it again from fresh state, its events never recorded. The written resource goes to JOSDK's
 * cache (its supported update-and-cache utility), so the next reconcile starts from it.
 */
final class StatusCommit {
  private static final Logger LOG = Logger.getLogger(StatusCommit.class);

  private StatusCommit() {}

  static UpdateControl<SparseModel> commit(
      Context<SparseModel> context,
      SparseModel model,
      SparseModelStatus status,
      Duration retry,
      EventRecorder events) {
    if (!status.equals(model.getStatus())) {
      SparseModelStatus before = model.getStatus();
      // Progress alone changes every few seconds while a stage runs: not worth a line each time.
      boolean news =
          before == null
              || before.getPhase() != status.getPhase()
              || !java.util.Objects.equals(before.getRevision(), status.getRevision())
              || !java.util.Objects.equals(before.getConditions(), status.getConditions());
      if (news) {
        LOG.infof("phase %s (revision %s)", status.getPhase(), status.getRevision());
      } else {
        LOG.debugf("status of phase %s (revision %s)", status.getPhase(), status.getRevision());
      }
      PrimaryUpdateAndCacheUtils.updateAndCacheResource(
          model,
          context,
          m -> {
            m.setStatus(status);
            return m;
          },
          m -> context.getClient().resource(m).updateStatus(),
          0,
          PrimaryUpdateAndCacheUtils.DEFAULT_RESOURCE_CACHE_TIMEOUT_MILLIS,
          PrimaryUpdateAndCacheUtils.DEFAULT_RESOURCE_CACHE_POLL_PERIOD_MILLIS);
    }
    events.flush();
    UpdateControl<SparseModel> control = UpdateControl.noUpdate();
    return retry == null ? control : control.rescheduleAfter(retry);
  }
}
