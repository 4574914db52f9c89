package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.StageJobs;
import java.util.List;
import java.util.Set;

/**
 * What wakes a SparseModel's reconcile: its stage Jobs and their pods, its serving Deployments,
 * Services and pods (all from informers on the operator's own label), and a change of the workload
 * images or of the allowed Prometheus servers, which concerns every model, and a finished canary
 * measurement ({@link io.sparserollout.operator.rollout.Measurements}).
 */
final class EventSources {
  private EventSources() {}

  /** The model named by the resource's model label, in its namespace. */
  private static Set<ResourceID> byModelLabel(io.fabric8.kubernetes.api.model.HasMetadata owned) {
    String model = owned.getMetadata().getLabels().get(StageJobs.MODEL_LABEL);
    return model == null
        ? Set.of()
        : Set.of(new ResourceID(model, owned.getMetadata().getNamespace()));
  }

  static List<EventSource<?, SparseModel>> of(
      EventSourceContext<SparseModel> context,
      WorkloadImages images,
      PrometheusProviders prometheus,
      SimpleInboundEventSource<SparseModel> measured) {
    String managed = StageJobs.MANAGED_BY + "=" + StageJobs.OPERATOR;
    // By the model's label, not the owner: a TrainJob's Job belongs to its JobSet.
    var jobs =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Job.class, SparseModel.class)
                .withLabelSelector(managed)
                .withSecondaryToPrimaryMapper(EventSources::byModelLabel)
                .build(),
            context);
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SparseModel.class)
                .withLabelSelector(managed)
                .withSecondaryToPrimaryMapper(EventSources::byModelLabel)
                .build(),
            context);
    var deployments =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Deployment.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    var services =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Service.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    // A new stage or serving image reaches the running revisions' Deployments at once; a changed
    // list of Prometheus servers reaches the next analysis.
    var configChanges = new SimpleInboundEventSource<SparseModel>();
    Runnable everyModel =
        () -> {
          try {
            context
                .getPrimaryCache()
                .list()
                .forEach(model -> configChanges.propagateEvent(ResourceID.fromResource(model)));
          } catch (RuntimeException notStartedYet) {
            // Before the controller starts; starting reconciles every model anyway.
          }
        };
    images.onChange(everyModel);
    prometheus.onChange(everyModel);
    return List.of(jobs, pods, deployments, services, configChanges, measured);
  }
}
