package io.sparserollout.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.ArtifactStore;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import jakarta.inject.Inject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Quarkus operator, wired as deployed, against a real API server. */
@QuarkusTest
@QuarkusTestResource(value = RealApiServerResource.class, restrictToAnnotatedClass = true)
class SparseModelOperatorIT {
  @Inject KubernetesClient client;

  @Test
  void acknowledgesEachSpecGenerationInStatus() {
    SparseModel model = new SparseModel();
    model.getMetadata().setName("minilm");
    model.getMetadata().setNamespace("default");
    model.setSpec(spec(128));
    client.resource(model).create();

    awaitObserved(1L);

    SparseModel current =
        client.resources(SparseModel.class).inNamespace("default").withName("minilm").get();
    current.setSpec(spec(256));
    client.resource(current).update();

    SparseModel second = awaitObserved(2L);
    assertThat(second.getStatus().getHistory()).hasSize(2);
    assertThat(second.getSpec().source().maxSequenceLength()).isEqualTo(256);
  }

  @Test
  void servesHealthAndMetrics() {
    given().get("/q/health/ready").then().statusCode(200);
    given().get("/q/metrics").then().statusCode(200).body(containsString("operator_sdk"));
  }

  private SparseModel awaitObserved(long generation) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client.resources(SparseModel.class).inNamespace("default").withName("minilm").get(),
            m ->
                m.getStatus() != null
                    && m.getStatus().getObservedGeneration() == generation
                    && m.getStatus().getPhase() == Phase.PENDING);
  }

  private static SparseModelSpec spec(int maxSequenceLength) {
    return new SparseModelSpec(
        new ModelSource("pvc://models/minilm/model.onnx", null, null, maxSequenceLength),
        new ArtifactStore("pvc://models/artifacts", null, null),
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }
}
