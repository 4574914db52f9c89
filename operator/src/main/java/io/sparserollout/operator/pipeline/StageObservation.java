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
 * labels cannot forge its result.
 */
public record StageObservation(
    Map<Stage, Job> jobs, Map<Stage, List<Pod>> pods, Map<Stage, StageState> states) {

  public static StageObservation of(
      SparseModel model, Collection<Job> allJobs, Collection<Pod> allPods, String revision) {
    Map<Stage, Job> jobs = new EnumMap<>(Stage.class);
    for (Job job : allJobs) {
      Map<String, String> labels = job.getMetadata().getLabels();
      if (OwnedResources.ownedBy(job, model)
          && revision.equals(labels.get(StageJobs.REVISION_LABEL))) {
        for (Stage stage : Stage.values()) {
          if (stage.jobSuffix().equals(labels.get(StageJobs.STAGE_LABEL))) {
            jobs.put(stage, job);
          }
        }
      }
    }
    Map<Stage, List<Pod>> pods = new EnumMap<>(Stage.class);
    Map<Stage, StageState> states = new EnumMap<>(Stage.class);
    jobs.forEach(
        (stage, job) -> {
          List<Pod> own =
              allPods.stream()
                  .filter(p -> OwnedResources.controlledBy(p, job.getMetadata().getUid()))
                  .toList();
          pods.put(stage, own);
          states.put(stage, StageState.observe(job, own, StageHandler.of(stage).resultType()));
        });
    return new StageObservation(jobs, pods, states);
  }
}
