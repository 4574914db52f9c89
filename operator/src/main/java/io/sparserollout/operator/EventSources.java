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

  static List<EventSource<?, SparseModel>> of(
      EventSourceContext<SparseModel> context,
      WorkloadImages images,
      PrometheusProviders prometheus,
      SimpleInboundEventSource<SparseModel> measured) {
    String managed = StageJobs.MANAGED_BY + "=" + StageJobs.OPERATOR;
    var jobs =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Job.class, SparseModel.class)
                .withLabelSelector(managed)
                .build(),
            context);
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SparseModel.class)
                .withLabelSelector(managed)
                .withSecondaryToPrimaryMapper(
                    pod ->
                        Set.of(
                            new ResourceID(
                                pod.getMetadata().getLabels().get(StageJobs.MODEL_LABEL),
                                pod.getMetadata().getNamespace())))
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
