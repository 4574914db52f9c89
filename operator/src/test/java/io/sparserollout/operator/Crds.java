package io.sparserollout.operator;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Installs another project's CRD (a test resource) on the test API server, once. */
final class Crds {
  private Crds() {}

  /** Creates the CRD {@code name} from {@code resource} unless it exists; waits until served. */
  static void install(KubernetesClient admin, String name, String resource) {
    var crds = admin.apiextensions().v1().customResourceDefinitions();
    if (crds.withName(name).get() == null) {
      // As plain maps: the typed model reads a schema's default: "" as null.
      GenericKubernetesResource crd =
          Serialization.unmarshal(
              Crds.class.getResourceAsStream(resource), GenericKubernetesResource.class);
      // The test's API server (1.20) refuses default: "" too; those defaults name referenced
      // Secrets, ConfigMaps and pull secrets, which the operator names itself where it uses them.
      dropEmptyDefaults(crd.getAdditionalProperties());
      admin
          .genericKubernetesResources("apiextensions.k8s.io/v1", "CustomResourceDefinition")
          .resource(crd)
          .create();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> crds.withName(name).get(),
            (CustomResourceDefinition crd) ->
                crd.getStatus() != null
                    && crd.getStatus().getConditions() != null
                    && crd.getStatus().getConditions().stream()
                        .anyMatch(
                            c ->
                                c.getType().equals("Established") && c.getStatus().equals("True")));
  }

  @SuppressWarnings("unchecked")
  private static void dropEmptyDefaults(Object node) {
    if (node instanceof Map<?, ?> map) {
      // A list's map key must then be required instead (imagePullSecrets' name).
      if (map.get("x-kubernetes-list-map-keys") instanceof List<?> keys
          && map.get("items") instanceof Map<?, ?> items
          && items.get("properties") instanceof Map<?, ?> properties) {
        for (Object key : keys) {
          if (properties.get(key) instanceof Map<?, ?> property
              && "".equals(property.get("default"))) {
            List<Object> required =
                new ArrayList<>(items.get("required") instanceof List<?> r ? r : List.<Object>of());
            required.add(key);
            ((Map<String, Object>) items).put("required", required);
          }
        }
      }
      if ("".equals(map.get("default"))) {
        map.remove("default");
      }
      map.values().forEach(Crds::dropEmptyDefaults);
    } else if (node instanceof List<?> list) {
      list.forEach(Crds::dropEmptyDefaults);
    }
  }
}
