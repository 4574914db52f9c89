package io.sparserollout.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real kube-apiserver and etcd (no mocks) through fabric8's kube-api-test, in offline mode over
 * the binaries of {@link ControlPlaneBinaries}.
 */
public final class RealApiServer implements AutoCloseable {
  private final KubeAPIServer server;
  private final Path kubeconfig;

  private final Path root;

  private RealApiServer(KubeAPIServer server, Path root, Path kubeconfig) {
    this.server = server;
    this.root = root;
    this.kubeconfig = kubeconfig;
  }

  public static RealApiServer start() {
    try {
      // kube-api-test expects <dir>/k8s/<version>-linux-amd64/; link it to wherever they are.
      Path root = Files.createTempDirectory("kube-api-test");
      Files.createDirectories(root.resolve("k8s"));
      Files.createSymbolicLink(
          root.resolve("k8s/" + ControlPlaneBinaries.VERSION + "-linux-amd64"),
          ControlPlaneBinaries.directory());
      KubeAPIServer server =
          new KubeAPIServer(
              KubeAPIServerConfigBuilder.anAPIServerConfig()
                  .withTestDir(root.toString())
                  .withApiServerVersion(ControlPlaneBinaries.VERSION)
                  .withOfflineMode(true)
                  .withUpdateKubeConfig(false)
                  // As hardened clusters do: setting blockOwnerDeletion on an owner reference
                  // needs permission to update the owner's finalizers.
                  .withApiServerFlag(
                      "--enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
                  .build());
      server.start();
      Path kubeconfig = root.resolve("kubeconfig.yaml");
      Files.writeString(kubeconfig, server.getKubeConfigYaml());
      return new RealApiServer(server, root, kubeconfig);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The cluster admin's config (never impersonating, whatever system properties say). */
  public Config config() {
    Config config = Config.fromKubeconfig(server.getKubeConfigYaml());
    config.setImpersonateUsername(null);
    config.setImpersonateGroups();
    return config;
  }

  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  @Override
  public void close() {
    server.stop();
    // Certificates, etcd data and the kubeconfig: nothing to keep once the server is gone.
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Left in the temporary directory.
    }
  }
}
