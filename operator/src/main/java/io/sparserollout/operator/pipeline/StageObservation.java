package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;

/** A revision's stage Jobs and what they and their pods say, from the informer caches. */
public record StageObservation(Map<Stage, Job> jobs, Map<Stage, StageState> states) {

  public static StageObservation of(
      Collection<Job> allJobs, Collection<Pod> pods, String revision) {
    Map<Stage, Job> jobs = new EnumMap<>(Stage.class);
    for (Job job : allJobs) {
      Map<String, String> labels = job.getMetadata().getLabels();
      if (revision.equals(labels.get(StageJobs.REVISION_LABEL))) {
        for (Stage stage : Stage.values()) {
          if (stage.jobSuffix().equals(labels.get(StageJobs.STAGE_LABEL))) {
            jobs.put(stage, job);
          }
        }
      }
    }
    Map<Stage, StageState> states = new EnumMap<>(Stage.class);
    jobs.forEach(
        (stage, job) ->
            states.put(
                stage,
                StageState.observe(
                    job,
                    pods.stream()
                        .filter(
                            p ->
                                job.getMetadata()
                                    .getName()
                                    .equals(p.getMetadata().getLabels().get("job-name")))
                        .toList(),
                    StageHandler.of(stage).resultType())));
    return new StageObservation(jobs, states);
  }
}
