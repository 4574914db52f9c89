package io.sparserollout.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * One named object of the operator's own configuration (in its namespace), kept current by an
 * informer, so an edit applies without a restart. Absent when it cannot be watched (no namespace
 * known, no permission): callers fall back to their defaults.
 */
public final class WatchedObject<T extends HasMetadata> implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WatchedObject.class);
  private final SharedIndexInformer<T> informer;

  public WatchedObject(Resource<T> resource, String description) {
    SharedIndexInformer<T> watching;
    try {
      watching = resource.inform();
    } catch (KubernetesClientException e) {
      LOG.warnf("cannot watch %s (%s): using the defaults", description, e.getMessage());
      watching = null;
    }
    this.informer = watching;
  }

  /** An object that is never there (no namespace to look in). */
  public static <T extends HasMetadata> WatchedObject<T> none() {
    return new WatchedObject<>();
  }

  private WatchedObject() {
    this.informer = null;
  }

  public Optional<T> get() {
    return informer == null ? Optional.empty() : informer.getStore().list().stream().findFirst();
  }

  /** Runs {@code listener} whenever the object is added, changed or removed. */
  public void onChange(Runnable listener) {
    if (informer == null) {
      return;
    }
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(T added) {
            listener.run();
          }

          @Override
          public void onUpdate(T before, T after) {
            listener.run();
          }

          @Override
          public void onDelete(T deleted, boolean finalStateUnknown) {
            listener.run();
          }
        });
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
