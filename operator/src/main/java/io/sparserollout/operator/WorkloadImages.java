package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The images of the pods the operator creates. The install's PodTemplate {@value #TEMPLATE} in the
 * operator's namespace names them (containers {@code sparsify} and {@code inference-pod}), so a
 * kustomize overlay's {@code images:} moves them with the operator's own image and a change reaches
 * the next pod built without a restart; the configuration is the fallback.
 */
@ApplicationScoped
public class WorkloadImages {
  static final String TEMPLATE = "sparserollout-workload-images";
  private static final Logger LOG = Logger.getLogger(WorkloadImages.class);
  private final String sparsify;
  private final String inferencePod;
  private final SharedIndexInformer<PodTemplate> template;

  @Inject
  public WorkloadImages(
      KubernetesClient client,
      @ConfigProperty(name = "sparserollout.sparsify.image") String sparsify,
      @ConfigProperty(name = "sparserollout.serving.image") String inferencePod,
      @ConfigProperty(name = "pod.namespace") Optional<String> namespace) {
    this.sparsify = sparsify;
    this.inferencePod = inferencePod;
    this.template = namespace.map(ns -> watch(client, ns)).orElse(null);
  }

  private static SharedIndexInformer<PodTemplate> watch(KubernetesClient client, String namespace) {
    try {
      return client.v1().podTemplates().inNamespace(namespace).withName(TEMPLATE).inform();
    } catch (KubernetesClientException e) {
      LOG.warnf(
          "cannot watch PodTemplate %s/%s (%s): using the configured images",
          namespace, TEMPLATE, e.getMessage());
      return null;
    }
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
    if (template == null) {
      return Optional.empty();
    }
    return template.getStore().list().stream()
        .flatMap(t -> t.getTemplate().getSpec().getContainers().stream())
        .filter(c -> container.equals(c.getName()))
        .map(Container::getImage)
        .filter(image -> image != null && !image.isBlank())
        .findFirst();
  }

  /** Runs {@code listener} whenever the template is added, changed or removed. */
  public void onChange(Runnable listener) {
    if (template == null) {
      return;
    }
    template.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(PodTemplate added) {
            listener.run();
          }

          @Override
          public void onUpdate(PodTemplate before, PodTemplate after) {
            listener.run();
          }

          @Override
          public void onDelete(PodTemplate deleted, boolean finalStateUnknown) {
            listener.run();
          }
        });
  }

  @PreDestroy
  void close() {
    if (template != null) {
      template.close();
    }
  }
}
