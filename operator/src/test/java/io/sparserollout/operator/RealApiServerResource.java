package io.sparserollout.operator;

import io.fabric8.kubernetes.client.Config;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.sparserollout.testing.ControlPlaneBinaries;
import io.sparserollout.testing.ControllerManager;
import io.sparserollout.testing.Kubectl;
import io.sparserollout.testing.RealApiServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A real kube-apiserver and kube-controller-manager with the project installed exactly as users
 * install it ({@code kubectl apply -k manifests/}), and the operator's client acting as the
 * operator's ServiceAccount, so the tests prove the shipped RBAC is enough.
 */
public class RealApiServerResource implements QuarkusTestResourceLifecycleManager {
  static final String OPERATOR_ACCOUNT =
      "system:serviceaccount:sparserollout-system:sparserollout-operator";
  private static RealApiServer apiServer;
  private ControllerManager controllerManager;

  /** The cluster admin's view, for the test itself. */
  static RealApiServer apiServer() {
    return apiServer;
  }

  @Override
  public Map<String, String> start() {
    apiServer = RealApiServer.start();
    controllerManager = ControllerManager.start(apiServer, Path.of("target", "control-plane"));
    Kubectl kubectl = new Kubectl(apiServer.kubeconfig());
    String manifests = ControlPlaneBinaries.projectRoot().resolve("manifests").toString();
    kubectl.ok("apply", "-k", manifests);
    kubectl.ok(
        "wait",
        "--for=condition=established",
        "--timeout=60s",
        "crd/sparsemodels.sparserollout.io");

    // Fabric8 reads impersonation from system properties when Quarkus builds its client config.
    System.setProperty(Config.KUBERNETES_IMPERSONATE_USERNAME, OPERATOR_ACCOUNT);
    Config config = apiServer.config();
    // kube-api-test's kubeconfig names certificate files; inline data is handled too.
    Map<String, String> properties = new HashMap<>();
    properties.put("quarkus.kubernetes-client.api-server-url", config.getMasterUrl());
    putIfSet(properties, "ca-cert-data", config.getCaCertData());
    putIfSet(properties, "ca-cert-file", config.getCaCertFile());
    putIfSet(properties, "client-cert-data", config.getClientCertData());
    putIfSet(properties, "client-cert-file", config.getClientCertFile());
    putIfSet(properties, "client-key-data", config.getClientKeyData());
    putIfSet(properties, "client-key-file", config.getClientKeyFile());
    putIfSet(properties, "client-key-algo", config.getClientKeyAlgo());
    return properties;
  }

  private static void putIfSet(Map<String, String> properties, String key, String value) {
    if (value != null) {
      properties.put("quarkus.kubernetes-client." + key, value);
    }
  }

  @Override
  public void stop() {
    System.clearProperty(Config.KUBERNETES_IMPERSONATE_USERNAME);
    if (controllerManager != null) {
      controllerManager.close();
    }
    if (apiServer != null) {
      apiServer.close();
    }
  }
}
