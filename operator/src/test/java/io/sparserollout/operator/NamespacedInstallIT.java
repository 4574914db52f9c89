package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.testing.ControlPlaneBinaries;
import io.sparserollout.testing.Kubectl;
import io.sparserollout.testing.RealApiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The namespaced install ({@code kubectl apply -k manifests/namespaced/}) on its own real API
 * server: the operator's ServiceAccount may act on models only in the namespaces it is bound in.
 */
class NamespacedInstallIT {
  private static RealApiServer apiServer;
  private static Kubectl kubectl;

  @BeforeAll
  static void install() {
    apiServer = RealApiServer.start();
    kubectl = new Kubectl(apiServer.kubeconfig());
    kubectl.ok("create", "namespace", "ml");
    kubectl.ok("create", "namespace", "other");
    kubectl.ok(
        "apply",
        "-k",
        ControlPlaneBinaries.projectRoot().resolve("manifests/namespaced").toString());
  }

  @AfterAll
  static void stop() {
    apiServer.close();
  }

  @ParameterizedTest(name = "{0} {1} in {2}: {3}")
  @CsvSource({
    "watch, sparsemodels.sparserollout.io, ml, yes",
    "watch, sparsemodels.sparserollout.io, other, no",
    "create, jobs.batch, ml, yes",
    "create, jobs.batch, other, no",
    "patch, deployments.apps, ml, yes",
    "patch, deployments.apps, other, no",
    "list, events, other, no",
    "get, podtemplates/sparserollout-workload-images, sparserollout-system, yes",
    "list, nodes, '', yes",
    "get, secrets, ml, no",
  })
  void theServiceAccountActsOnlyInTheWatchedNamespaces(
      String verb, String resource, String namespace, String allowed) {
    var result =
        kubectl.run(
            "auth",
            "can-i",
            verb,
            resource,
            namespace.isEmpty() ? "--all-namespaces" : "--namespace=" + namespace,
            "--as=" + RealApiServerResource.OPERATOR_ACCOUNT);

    assertThat(result.output().strip()).isEqualTo(allowed);
  }
}
