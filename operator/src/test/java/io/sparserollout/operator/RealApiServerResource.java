package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.sparserollout.testing.RealApiServer;
import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts a real kube-apiserver with the committed CRD and points the operator's client at it. */
public class RealApiServerResource implements QuarkusTestResourceLifecycleManager {
  private RealApiServer apiServer;

  @Override
  public Map<String, String> start() {
    apiServer = RealApiServer.start();
    try (KubernetesClient client = apiServer.client()) {
      var crds = client.apiextensions().v1().customResourceDefinitions();
      CustomResourceDefinition crd =
          crds.load(new File(System.getProperty("crd.committed"))).item();
      client.resource(crd).create();
      crds.withName(crd.getMetadata().getName())
          .waitUntilCondition(
              c ->
                  c.getStatus() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(x -> "Established".equals(x.getType())),
              30,
              TimeUnit.SECONDS);
    }
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
    if (apiServer != null) {
      apiServer.close();
    }
  }
}
