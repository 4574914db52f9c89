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
import io.sparserollout.testing.Kubectl;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Quarkus operator, installed from manifests/ and running as its ServiceAccount, against a real
 * API server.
 */
@QuarkusTest
@QuarkusTestResource(value = RealApiServerResource.class, restrictToAnnotatedClass = true)
class SparseModelOperatorIT {
  private KubernetesClient admin;

  @BeforeEach
  void connect() {
    admin = RealApiServerResource.apiServer().client();
  }

  @AfterEach
  void disconnect() {
    admin.close();
  }

  @Test
  void acknowledgesEachSpecGenerationInStatus() {
    SparseModel model = new SparseModel();
    model.getMetadata().setName("minilm");
    model.getMetadata().setNamespace("default");
    model.setSpec(spec(128));
    admin.resource(model).create();

    SparseModel first = awaitObserved(1L);
    assertThat(first.getStatus().getConditions())
        .singleElement()
        .satisfies(c -> assertThat(c.observedGeneration()).isEqualTo(1L));

    first.setSpec(spec(256));
    admin.resource(first).update();

    SparseModel second = awaitObserved(2L);
    assertThat(second.getStatus().getHistory()).hasSize(2);
    assertThat(second.getSpec().source().maxSequenceLength())
        .as("the operator never writes spec")
        .isEqualTo(256);
  }

  @ParameterizedTest(name = "{0} {1} {2}: {3}")
  @CsvSource({
    "watch, sparsemodels.sparserollout.io, '', yes",
    "patch, sparsemodels.sparserollout.io, status, yes",
    "update, sparsemodels.sparserollout.io, '', no",
    "delete, sparsemodels.sparserollout.io, '', no",
    "get, secrets, '', no",
    "create, pods, '', no",
    "delete, pods, '', no",
    "create, jobs.batch, '', yes",
    "update, jobs.batch, '', no",
    "list, nodes, '', yes",
    "update, nodes, '', no",
  })
  void serviceAccountHoldsOnlyWhatTheOperatorUses(
      String verb, String resource, String subresource, String allowed) {
    Kubectl kubectl = new Kubectl(RealApiServerResource.apiServer().kubeconfig());

    var result =
        kubectl.run(
            "auth",
            "can-i",
            verb,
            resource,
            "--subresource=" + subresource,
            "--all-namespaces",
            "--as=" + RealApiServerResource.OPERATOR_ACCOUNT);

    assertThat(result.output().strip()).isEqualTo(allowed);
  }

  @Test
  void leaseIsOnlyWritableInTheOperatorsNamespace() {
    Kubectl kubectl = new Kubectl(RealApiServerResource.apiServer().kubeconfig());
    String as = "--as=" + RealApiServerResource.OPERATOR_ACCOUNT;

    assertThat(
            kubectl
                .run("auth", "can-i", "update", "leases", "-n", "sparserollout-system", as)
                .output())
        .startsWith("yes");
    assertThat(kubectl.run("auth", "can-i", "update", "leases", "-n", "default", as).output())
        .startsWith("no");
  }

  @Test
  void servesHealthAndMetrics() {
    given().get("/q/health/ready").then().statusCode(200);
    given().get("/q/health/live").then().statusCode(200);
    given().get("/q/metrics").then().statusCode(200).body(containsString("operator_sdk"));
  }

  private SparseModel awaitObserved(long generation) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin.resources(SparseModel.class).inNamespace("default").withName("minilm").get(),
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
