package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.operator.k8s.WatchedObject;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The Prometheus servers canary analysis may query, by name: the ConfigMap {@value #CONFIG_MAP} in
 * the operator's namespace, written by whoever installs the operator. A SparseModel names one
 * ({@code analysis.prometheus}); it never gives a URL, so a tenant cannot point the operator's HTTP
 * client at an address of its choosing. Only http(s) URLs without credentials count.
 */
@ApplicationScoped
public class PrometheusProviders {
  static final String CONFIG_MAP = "sparserollout-prometheus-providers";
  private final WatchedObject<ConfigMap> providers;

  @Inject
  public PrometheusProviders(
      KubernetesClient client, @ConfigProperty(name = "pod.namespace") Optional<String> namespace) {
    this.providers =
        namespace
            .map(
                ns ->
                    new WatchedObject<>(
                        client.configMaps().inNamespace(ns).withName(CONFIG_MAP),
                        "ConfigMap " + ns + "/" + CONFIG_MAP))
            .orElseGet(WatchedObject::none);
  }

  /** Every allowed provider: name to base URL. */
  public Map<String, String> all() {
    Map<String, String> allowed = new TreeMap<>();
    providers
        .get()
        .map(ConfigMap::getData)
        .ifPresent(
            data ->
                data.forEach(
                    (name, url) -> {
                      if (usable(url)) {
                        allowed.put(name, url.strip());
                      }
                    }));
    return allowed;
  }

  static boolean usable(String url) {
    try {
      URI uri = URI.create(url.strip());
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && uri.getHost() != null
          && uri.getUserInfo() == null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Runs {@code listener} whenever the ConfigMap is added, changed or removed. */
  public void onChange(Runnable listener) {
    providers.onChange(listener);
  }

  @PreDestroy
  void close() {
    providers.close();
  }
}
