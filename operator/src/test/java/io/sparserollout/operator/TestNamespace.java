package io.sparserollout.operator;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.testing.TestKubelet;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.TestInfo;

/** A namespace of its own per integration test on the shared real API server, with helpers. */
record TestNamespace(KubernetesClient admin, TestKubelet kubelet, String name)
    implements AutoCloseable {
  /** Named after the test method, so a failed test's resources are easy to find. */
  static TestNamespace forTest(TestInfo test) {
    KubernetesClient admin = RealApiServerResource.apiServer().client();
    String name = test.getTestMethod().orElseThrow().getName().toLowerCase();
    name = name.replaceAll("[^a-z0-9]", "");
    name = name.substring(0, Math.min(20, name.length()));
    admin
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return new TestNamespace(admin, new TestKubelet(admin), name);
  }

  SparseModel create(String model, Consumer<ObjectNode> edit) {
    SparseModel resource = Fixtures.minilm(edit);
    resource.getMetadata().setName(model);
    resource.getMetadata().setNamespace(name);
    resource.getMetadata().setUid(null);
    resource.getMetadata().setGeneration(null);
    return admin.resource(resource).create();
  }

  static String job(SparseModel model, String revision, String stage) {
    return model.getMetadata().getName() + "-" + revision + "-" + stage;
  }

  /** Plays the three default stages' pods to a passing gate. */
  void passPipeline(SparseModel model, String revision) {
    kubelet.succeed(name, job(model, revision, "prune"), StageResults.PRUNED);
    kubelet.succeed(name, job(model, revision, "engine"), StageResults.ENGINE);
    kubelet.succeed(name, job(model, revision, "evaluate"), StageResults.EVALUATED_GOOD);
  }

  /**
   * What PodGC, a node scale-down or a clean-up tool does to a finished pipeline: every stage pod
   * of the model is deleted, its Jobs having completed long ago; a reconcile is then asked for.
   */
  void forgetStagePods(SparseModel model) {
    String old = java.time.Instant.now().minusSeconds(3600).toString().replaceAll("\\.\\d+Z$", "Z");
    for (Job job :
        admin
            .batch()
            .v1()
            .jobs()
            .inNamespace(name)
            .withLabel("sparserollout.io/model", model.getMetadata().getName())
            .list()
            .getItems()) {
      job.getStatus().setCompletionTime(old);
      admin.batch().v1().jobs().inNamespace(name).resource(job).updateStatus();
    }
    admin
        .pods()
        .inNamespace(name)
        .withLabel("sparserollout.io/model", model.getMetadata().getName())
        .withLabel("sparserollout.io/stage")
        .withGracePeriod(0)
        .delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin
                    .pods()
                    .inNamespace(name)
                    .withLabel("sparserollout.io/model", model.getMetadata().getName())
                    .withLabel("sparserollout.io/stage")
                    .list()
                    .getItems()
                    .isEmpty());
    annotate(model, "test/nudge", java.time.Instant.now().toString().replace(":", "-"));
  }

  Job awaitJob(String job) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> admin.batch().v1().jobs().inNamespace(name).withName(job).get(), j -> j != null);
  }

  SparseModel get(SparseModel model) {
    return admin
        .resources(SparseModel.class)
        .inNamespace(name)
        .withName(model.getMetadata().getName())
        .get();
  }

  /**
   * Waits until the model has exactly one condition of {@code type} and it passes {@code check}.
   */
  void awaitCondition(
      SparseModel model,
      String type,
      Duration timeout,
      Consumer<io.sparserollout.api.v1alpha1.Condition> check) {
    await()
        .atMost(timeout)
        .untilAsserted(
            () -> {
              SparseModel current = get(model);
              org.assertj.core.api.Assertions.assertThat(current.getStatus()).isNotNull();
              org.assertj.core.api.Assertions.assertThat(current.getStatus().getConditions())
                  .filteredOn(c -> c.type().equals(type))
                  .singleElement()
                  .satisfies(check::accept);
            });
  }

  SparseModel awaitPhase(SparseModel model, Phase phase) {
    return awaitPhase(model, phase, Duration.ofSeconds(60));
  }

  SparseModel awaitPhase(SparseModel model, Phase phase, Duration timeout) {
    Predicate<SparseModel> reached =
        m -> m.getStatus() != null && m.getStatus().getPhase() == phase;
    return await().atMost(timeout).until(() -> get(model), reached);
  }

  /** Sets an annotation by merge patch: no resourceVersion, so no conflict with status writes. */
  void annotate(SparseModel model, String key, String value) {
    admin
        .resources(SparseModel.class)
        .inNamespace(name)
        .withName(model.getMetadata().getName())
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"" + key + "\":\"" + value + "\"}}}");
  }

  /**
   * Asserts on the model's events until the assertion holds: the operator records events just after
   * the status that explains them, so a test that saw the status may be a moment early.
   */
  void awaitEvents(SparseModel model, Consumer<List<Event>> assertion) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertion.accept(events(model)));
  }

  void awaitReasons(SparseModel model, String... reasons) {
    awaitEvents(
        model,
        events ->
            org.assertj.core.api.Assertions.assertThat(
                    events.stream().map(Event::getReason).toList())
                .contains(reasons));
  }

  List<Event> events(SparseModel model) {
    return admin.v1().events().inNamespace(name).list().getItems().stream()
        .filter(e -> model.getMetadata().getName().equals(e.getInvolvedObject().getName()))
        .toList();
  }

  List<String> reasons(SparseModel model) {
    return events(model).stream().map(Event::getReason).toList();
  }

  @Override
  public void close() {
    admin.close();
  }
}
