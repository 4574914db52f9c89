package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A revision's stage Jobs, their pods and what they say, from the informer caches. Only Jobs the
 * model controls and pods their Job controls count (by UID): a pod that merely carries a stage's
 * labels cannot forge its result. {@code jobs} and {@code pods} hold each stage's Job (worker 0's
 * where several workers run it) and {@code workers} every worker's Job (null: not created) and
 * pods, in rank order. Fine-tuning run by Kubeflow Trainer ({@link TrainJobs}) shows only as the
 * Jobs that may be its JobSet's {@code node} Job, with their pods, in {@code trainJobNodes}: which
 * one is, and the stage's state, need the TrainJob and its JobSet, which no informer holds. The
 * engine Jobs of other GPU products ({@link ProductEngines}) are in {@code productEngines}, by
 * product.
 */
public record StageObservation(
    Map<Stage, Job> jobs,
    Map<Stage, List<Pod>> pods,
    Map<Stage, StageState> states,
    Map<Stage, List<WorkerStates.Worker>> workers,
    List<WorkerStates.Worker> trainJobNodes,
    Map<String, WorkerStates.Worker> productEngines) {

  public static StageObservation of(
      SparseModel model, Collection<Job> allJobs, Collection<Pod> allPods, String revision) {
    Map<Stage, Job[]> byRank = new EnumMap<>(Stage.class);
    Map<String, WorkerStates.Worker> productEngines = new java.util.TreeMap<>();
    for (Job job : allJobs) {
      Map<String, String> labels = job.getMetadata().getLabels();
      if (OwnedResources.ownedBy(job, model)
          && revision.equals(labels.get(StageJobs.REVISION_LABEL))
          && labels.get(ProductEngines.PRODUCT_LABEL) != null) {
        productEngines.put(
            labels.get(ProductEngines.PRODUCT_LABEL),
            new WorkerStates.Worker(0, job, podsOf(job, allPods)));
      } else if (OwnedResources.ownedBy(job, model)
          && revision.equals(labels.get(StageJobs.REVISION_LABEL))) {
        for (Stage stage : Stage.values()) {
          int rank = WorkerSet.rank(job);
          int workers = WorkerSet.workers(model, stage);
          if (stage.jobSuffix().equals(labels.get(StageJobs.STAGE_LABEL))
              && rank >= 0
              && rank < workers) {
            byRank.computeIfAbsent(stage, s -> new Job[workers])[rank] = job;
          }
        }
      }
    }
    Map<Stage, Job> jobs = new EnumMap<>(Stage.class);
    Map<Stage, List<Pod>> pods = new EnumMap<>(Stage.class);
    Map<Stage, StageState> states = new EnumMap<>(Stage.class);
    Map<Stage, List<WorkerStates.Worker>> all = new EnumMap<>(Stage.class);
    byRank.forEach(
        (stage, ranked) -> {
          List<WorkerStates.Worker> workers = new java.util.ArrayList<>();
          for (int rank = 0; rank < ranked.length; rank++) {
            workers.add(new WorkerStates.Worker(rank, ranked[rank], podsOf(ranked[rank], allPods)));
          }
          if (ranked[0] != null) {
            jobs.put(stage, ranked[0]);
            pods.put(stage, workers.get(0).pods());
          }
          all.put(stage, List.copyOf(workers));
          var type = StageHandler.of(stage).resultType();
          states.put(
              stage,
              ranked.length == 1
                  ? StageState.observe(ranked[0], workers.get(0).pods(), type)
                  : WorkerStates.observe(workers, ranked.length, type, java.time.Instant.now()));
        });
    List<WorkerStates.Worker> trainJobNodes = new java.util.ArrayList<>();
    if (TrainJobs.requested(model)) {
      for (Job job : allJobs) {
        if (TrainJobs.runsFor(job, model, revision)
            && job.getMetadata().getDeletionTimestamp() == null) {
          trainJobNodes.add(new WorkerStates.Worker(0, job, podsOf(job, allPods)));
        }
      }
    }
    return new StageObservation(
        jobs, pods, states, all, List.copyOf(trainJobNodes), Map.copyOf(productEngines));
  }

  private static List<Pod> podsOf(Job job, Collection<Pod> allPods) {
    return job == null
        ? List.of()
        : allPods.stream()
            .filter(p -> OwnedResources.controlledBy(p, job.getMetadata().getUid()))
            .toList();
  }
}
