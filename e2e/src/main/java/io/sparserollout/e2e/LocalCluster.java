package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sparserollout.testing.ControlPlaneBinaries;
import io.sparserollout.testing.ControllerManager;
import io.sparserollout.testing.KubeScheduler;
import io.sparserollout.testing.Kubectl;
import io.sparserollout.testing.RealApiServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A local Kubernetes cluster on real control-plane binaries (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler), three registered nodes (CPU, A100, T4) and the
 * process-backed kubelet, with the project installed by {@code kubectl apply -k manifests/}: the
 * operator then runs as the pod of its own Deployment, under its ServiceAccount.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String MODELS_CLAIM = "models";
  private final Path root;
  private final Path workDir;
  private final RealApiServer apiServer;
  private final ControllerManager controllerManager;
  private final KubeScheduler scheduler;
  private final KubernetesClient client;
  private final SharedIndexInformer<Pod> pods;
  private final ServiceProxy services;
  private final ProcessKubelet kubelet;
  private final Kubectl kubectl;

  private LocalCluster(Path root, Path workDir) {
    this.root = root;
    this.workDir = workDir;
    this.apiServer = RealApiServer.start();
    this.controllerManager = ControllerManager.start(apiServer, workDir.resolve("control-plane"));
    this.scheduler = KubeScheduler.start(apiServer, workDir.resolve("control-plane"));
    this.client = apiServer.client();
    this.kubectl = new Kubectl(apiServer.kubeconfig());
    Nodes.register(client);
    this.pods = client.pods().inAnyNamespace().inform();
    this.services = new ServiceProxy(client, pods);
    this.kubelet =
        new ProcessKubelet(
            client,
            pods,
            Images.of(root),
            Map.of(MODELS_CLAIM, workDir.resolve("pv").resolve(MODELS_CLAIM)),
            workDir.resolve("pods"),
            services,
            credentials(apiServer.config()));
  }

  /** Starts the cluster with its state and logs under {@code workDir}. */
  public static LocalCluster start(Path workDir) {
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new LocalCluster(ControlPlaneBinaries.projectRoot(), workDir);
  }

  /**
   * Installs manifests/ (CRD, RBAC, operator Deployment) and waits for the operator to be Ready.
   */
  public void installOperator(Duration timeout) {
    kubectl.ok("apply", "-k", root.resolve("manifests").toString());
    kubectl.ok(
        "wait",
        "--for=condition=established",
        "--timeout=60s",
        "crd/sparsemodels.sparserollout.io");
    Instant deadline = Instant.now().plus(timeout);
    while (!kubectl
        .run(
            "wait",
            "--for=condition=Available",
            "--timeout=5s",
            "-n",
            "sparserollout-system",
            "deployment/sparserollout-operator")
        .output()
        .contains("condition met")) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "the operator did not become Available within "
                + timeout
                + ": see "
                + workDir.resolve("pods"));
      }
    }
  }

  /**
   * A namespace with the models claim: a PersistentVolume on the local directory the kubelet mounts
   * for it, bound (the harness plays the volume binder) so the scheduler places its pods.
   */
  public Path createNamespaceWithModels(String namespace) {
    client
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    var claim =
        client
            .resource(
                new PersistentVolumeClaimBuilder()
                    .withNewMetadata()
                    .withName(MODELS_CLAIM)
                    .withNamespace(namespace)
                    // What the volume binder writes once it bound the claim; the scheduler
                    // reads it.
                    .withAnnotations(
                        Map.of(
                            "pv.kubernetes.io/bind-completed", "yes",
                            "pv.kubernetes.io/bound-by-controller", "yes"))
                    .endMetadata()
                    .withNewSpec()
                    .withAccessModes("ReadWriteMany")
                    .withStorageClassName("")
                    .withNewResources()
                    .withRequests(Map.of("storage", new Quantity("10Gi")))
                    .endResources()
                    .endSpec()
                    .build())
            .create();
    String volume = "models-" + namespace;
    client
        .resource(
            new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder()
                .withNewMetadata()
                .withName(volume)
                .endMetadata()
                .withNewSpec()
                .withCapacity(Map.of("storage", new Quantity("10Gi")))
                .withAccessModes("ReadWriteMany")
                .withStorageClassName("")
                .withNewHostPath()
                .withPath(workDir.resolve("pv").resolve(MODELS_CLAIM).toString())
                .endHostPath()
                .withNewClaimRef()
                .withNamespace(namespace)
                .withName(MODELS_CLAIM)
                .withUid(claim.getMetadata().getUid())
                .endClaimRef()
                .endSpec()
                .build())
        .create();
    claim.getSpec().setVolumeName(volume);
    claim = client.resource(claim).update();
    claim.getStatus().setPhase("Bound");
    claim.getStatus().setAccessModes(java.util.List.of("ReadWriteMany"));
    claim.getStatus().setCapacity(Map.of("storage", new Quantity("10Gi")));
    client.resource(claim).updateStatus();
    var pv = client.persistentVolumes().withName(volume).get();
    pv.getStatus().setPhase("Bound");
    client.resource(pv).updateStatus();
    return workDir.resolve("pv").resolve(MODELS_CLAIM);
  }

  public KubernetesClient client() {
    return client;
  }

  public Kubectl kubectl() {
    return kubectl;
  }

  public Path kubeconfig() {
    return apiServer.kubeconfig();
  }

  public Path workDir() {
    return workDir;
  }

  /** Where clients reach a Service (its cluster address as this machine sees it). */
  public String serviceAddress(String namespace, String name) {
    return services.address(namespace, name);
  }

  /** The operator's client acts as its ServiceAccount: environment for Fabric8 and Quarkus. */
  private static Map<String, String> credentials(Config admin) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KUBERNETES_MASTER", admin.getMasterUrl());
    env.put("QUARKUS_KUBERNETES_CLIENT_API_SERVER_URL", admin.getMasterUrl());
    put(
        env,
        admin.getCaCertFile(),
        "KUBERNETES_CERTS_CA_FILE",
        "QUARKUS_KUBERNETES_CLIENT_CA_CERT_FILE");
    put(
        env,
        admin.getCaCertData(),
        "KUBERNETES_CERTS_CA_DATA",
        "QUARKUS_KUBERNETES_CLIENT_CA_CERT_DATA");
    put(
        env,
        admin.getClientCertFile(),
        "KUBERNETES_CERTS_CLIENT_FILE",
        "QUARKUS_KUBERNETES_CLIENT_CLIENT_CERT_FILE");
    put(
        env,
        admin.getClientCertData(),
        "KUBERNETES_CERTS_CLIENT_DATA",
        "QUARKUS_KUBERNETES_CLIENT_CLIENT_CERT_DATA");
    put(
        env,
        admin.getClientKeyFile(),
        "KUBERNETES_CERTS_CLIENT_KEY_FILE",
        "QUARKUS_KUBERNETES_CLIENT_CLIENT_KEY_FILE");
    put(
        env,
        admin.getClientKeyData(),
        "KUBERNETES_CERTS_CLIENT_KEY_DATA",
        "QUARKUS_KUBERNETES_CLIENT_CLIENT_KEY_DATA");
    put(
        env,
        admin.getClientKeyAlgo(),
        "KUBERNETES_CERTS_CLIENT_KEY_ALGO",
        "QUARKUS_KUBERNETES_CLIENT_CLIENT_KEY_ALGO");
    return env;
  }

  private static void put(Map<String, String> env, String value, String... names) {
    if (value != null) {
      for (String name : names) {
        env.put(name, value);
      }
    }
  }

  @Override
  public void close() {
    kubelet.close();
    services.close();
    pods.close();
    client.close();
    scheduler.close();
    controllerManager.close();
    apiServer.close();
  }
}
