package io.sparserollout.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.testing.Kubectl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Quarkus operator, installed from manifests/ and running as its ServiceAccount, against a real
 * API server.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class SparseModelOperatorIT {
  @ParameterizedTest(name = "{0} {1} {2}: {3}")
  @CsvSource({
    "watch, sparsemodels.sparserollout.io, '', yes",
    "patch, sparsemodels.sparserollout.io, status, yes",
    "update, sparsemodels.sparserollout.io, '', no",
    "update, sparsemodels.sparserollout.io, finalizers, yes",
    "delete, sparsemodels.sparserollout.io, '', no",
    "get, secrets, '', no",
    "patch, events, '', yes",
    "list, events, '', yes",
    "get, replicasets.apps, '', yes",
    "list, replicasets.apps, '', no",
    "delete, events, '', no",
    "create, pods, '', no",
    "delete, pods, '', no",
    "create, jobs.batch, '', yes",
    "update, jobs.batch, '', no",
    "list, nodes, '', yes",
    "update, nodes, '', no",
    "patch, deployments.apps, '', yes",
    "update, deployments.apps, '', no",
    "create, services, '', yes",
    "patch, services, '', yes",
    "update, services, '', no",
    "delete, customresourcedefinitions.apiextensions.k8s.io, '', no",
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

  @jakarta.inject.Inject
  io.quarkiverse.operatorsdk.runtime.QuarkusConfigurationService configuration;

  @jakarta.inject.Inject SparseModelReconciler reconciler;

  @Test
  void apiErrorsAreRetriedWithoutEndAndEveryModelIsLookedAtWithinMinutes() {
    var controller = configuration.getConfigurationFor(reconciler);

    assertThat(controller.getRetry())
        .isInstanceOfSatisfying(
            io.javaoperatorsdk.operator.processing.retry.GenericRetry.class,
            retry -> {
              assertThat(retry.getMaxAttempts()).isEqualTo(-1);
              assertThat(retry.getMaxInterval()).isEqualTo(300_000);
            });
    assertThat(controller.maxReconciliationInterval()).contains(java.time.Duration.ofMinutes(5));
  }

  @Test
  void leaseIsOnlyWritableInTheOperatorsNamespace() {
    Kubectl kubectl = new Kubectl(RealApiServerResource.apiServer().kubeconfig());
    String as = "--as=" + RealApiServerResource.OPERATOR_ACCOUNT;

    assertThat(
            kubectl
                .run("auth", "can-i", "patch", "leases", "-n", "sparserollout-system", as)
                .output())
        .startsWith("yes");
    assertThat(kubectl.run("auth", "can-i", "update", "leases", "-n", "default", as).output())
        .startsWith("no");
  }

  @Test
  void servesHealthAndMetrics(TestInfo test) {
    given().get("/q/health/ready").then().statusCode(200);
    given().get("/q/health/live").then().statusCode(200);
    // JOSDK's metrics appear with the first reconciliation, which this test makes sure happens
    // (with no SparseModel in the cluster, whether one came before depended on the test order).
    try (TestNamespace ns = TestNamespace.forTest(test)) {
      ns.create("minilm", spec -> {});
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  given()
                      .get("/q/metrics")
                      .then()
                      .statusCode(200)
                      .body(containsString("operator_sdk")));
    }
  }
}
