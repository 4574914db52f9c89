package io.sparserollout.operator.pipeline;

import io.smallrye.config.ConfigMapping;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * How often and how long each stage's Job may run, and how often a running fine-tune's progress is
 * read, from the operator's configuration.
 */
public record StageLimits(
    int backoffLimit,
    Map<Stage, Duration> deadlines,
    Duration progressPoll,
    java.util.Set<String> trainJobRuntimes) {

  /** {@code sparserollout.job.*} in application.properties (or SPARSEROLLOUT_JOB_* variables). */
  @ConfigMapping(prefix = "sparserollout.job")
  public interface Config {
    int backoffLimit();

    /** By stage: prune, finetune, quantize, quantize-dense, engine, evaluate. */
    Map<String, Duration> deadline();

    /** How often a running fine-tune's progress is read into status. */
    Duration progressPoll();

    /**
     * The training runtimes a SparseModel may name in spec.fineTuning.trainJob: the operator
     * creates the TrainJob with its own rights, and a runtime brings its own pod template.
     */
    java.util.Optional<java.util.List<String>> trainjobRuntimes();
  }

  /** Every stage must have a positive deadline; a name that is no stage is a typo, refused. */
  public static StageLimits from(Config config) {
    Map<Stage, Duration> deadlines = new EnumMap<>(Stage.class);
    config
        .deadline()
        .forEach(
            (name, deadline) -> {
              Stage stage =
                  java.util.Arrays.stream(Stage.values())
                      .filter(s -> s.jobSuffix().equals(name))
                      .findFirst()
                      .orElseThrow(
                          () ->
                              new IllegalArgumentException(
                                  "sparserollout.job.deadline."
                                      + name
                                      + ": not a stage (prune, finetune, quantize, quantize-dense, engine,"
                                      + " evaluate)"));
              if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException(
                    "sparserollout.job.deadline." + name + ": must be positive");
              }
              deadlines.put(stage, deadline);
            });
    for (Stage stage : Stage.values()) {
      if (!deadlines.containsKey(stage)) {
        throw new IllegalArgumentException(
            "sparserollout.job.deadline." + stage.jobSuffix() + ": not set");
      }
    }
    if (config.progressPoll().isNegative() || config.progressPoll().isZero()) {
      throw new IllegalArgumentException("sparserollout.job.progress-poll: must be positive");
    }
    return new StageLimits(
        config.backoffLimit(),
        deadlines,
        config.progressPoll(),
        // Empty: none allowed. A bare name is a ClusterTrainingRuntime, TrainingRuntime/<name> a
        // namespaced one.
        config.trainjobRuntimes().orElse(java.util.List.of()).stream()
            .map(String::strip)
            .filter(r -> !r.isEmpty())
            .collect(java.util.stream.Collectors.toUnmodifiableSet()));
  }

  public JobSettings settings(String image, Stage stage) {
    return new JobSettings(image, backoffLimit, deadlines.get(stage));
  }
}
