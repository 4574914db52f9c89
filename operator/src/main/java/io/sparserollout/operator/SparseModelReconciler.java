package io.sparserollout.operator;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import java.time.Clock;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Observes a SparseModel and writes its status. The pipeline stages arrive with their own issue;
 * for now a new spec generation is acknowledged as Pending.
 */
@ControllerConfiguration(name = "sparsemodel")
public class SparseModelReconciler implements Reconciler<SparseModel> {
  private static final Logger LOG = Logger.getLogger(SparseModelReconciler.class);
  private final StatusAggregator statuses = new StatusAggregator(Clock.systemUTC());

  @Override
  public UpdateControl<SparseModel> reconcile(SparseModel model, Context<SparseModel> context) {
    MDC.put(
        "sparsemodel", model.getMetadata().getNamespace() + "/" + model.getMetadata().getName());
    try {
      SparseModelStatus desired = statuses.acknowledge(model);
      if (desired.equals(model.getStatus())) {
        return UpdateControl.noUpdate();
      }
      LOG.infof(
          "generation %d observed, phase %s",
          model.getMetadata().getGeneration(), desired.getPhase());
      model.setStatus(desired);
      return UpdateControl.patchStatus(model);
    } finally {
      MDC.remove("sparsemodel");
    }
  }
}
