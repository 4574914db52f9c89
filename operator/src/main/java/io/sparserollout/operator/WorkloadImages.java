package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.operator.k8s.WatchedObject;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The images of the pods the operator creates. The install's PodTemplate {@value #TEMPLATE} in the
 * operator's namespace names them (containers {@code sparsify} and {@code inference-pod}), so a
 * kustomize overlay's {@code images:} moves them with the operator's own image and a change reaches
 * the next pod built without a restart; the configuration is the fallback.
 */
@ApplicationScoped
public class WorkloadImages {
  static final String TEMPLATE = "sparserollout-workload-images";
  private final String sparsify;
  private final String inferencePod;
  private final WatchedObject<PodTemplate> template;

  @Inject
  public WorkloadImages(
      KubernetesClient client,
      @ConfigProperty(name = "sparserollout.sparsify.image") String sparsify,
      @ConfigProperty(name = "sparserollout.serving.image") String inferencePod,
      @ConfigProperty(name = "pod.namespace") Optional<String> namespace) {
    this.sparsify = sparsify;
    this.inferencePod = inferencePod;
    this.template =
        namespace
            .map(
                ns ->
                    new WatchedObject<>(
                        client.v1().podTemplates().inNamespace(ns).withName(TEMPLATE),
                        "PodTemplate " + ns + "/" + TEMPLATE))
            .orElseGet(WatchedObject::none);
  }

  /** The image of stage Jobs and of the serving pods' model fetch. */
  public String sparsify() {
    return fromTemplate("sparsify").orElse(sparsify);
  }

  /** The image of serving Deployments. */
  public String inferencePod() {
    return fromTemplate("inference-pod").orElse(inferencePod);
  }

  private Optional<String> fromTemplate(String container) {
    return template.get().stream()
        .flatMap(t -> t.getTemplate().getSpec().getContainers().stream())
        .filter(c -> container.equals(c.getName()))
        .map(Container::getImage)
        .filter(image -> image != null && !image.isBlank())
        .findFirst();
  }

  /** Runs {@code listener} whenever the template is added, changed or removed. */
  public void onChange(Runnable listener) {
    template.onChange(listener);
  }

  @PreDestroy
  void close() {
    template.close();
  }
}
