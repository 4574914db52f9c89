package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sparserollout.testing.ControlPlaneBinaries;
import io.sparserollout.testing.Kubectl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local Kubernetes cluster with a real node (scripts/local-cluster.sh, docs/local-cluster.md):
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler and {@code cpu-node} (containerd,
 * runc, kubelet, kube-proxy, cluster DNS) inside a network namespace of its own; the project's
 * images built by scripts/images.sh. Beside it two GPU nodes (an A100 and a T4) that only exist in
 * the API, their pods run as processes by {@link ProcessKubelet}: placement keeps its tests on a
 * machine without GPUs. The project is installed by {@code kubectl apply -k manifests/}: the
 * operator then runs in a container of its own Deployment, under its ServiceAccount's token.
 *
 * <p>Over 300 lines on purpose: the Java face of scripts/local-cluster.sh (start, reach, forward,
 * hand-over, diagnostics, teardown) for the tests and the demo, kept together.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String MODELS_CLAIM = "models";

  /** The user the project's pods run as; volumes they write are handed to it. */
  private static final String POD_USER = "1000:1000";

  private static final String NODE_NETNS = "/run/netns/sparserollout";
  private static final AtomicInteger NEXT_LOOPBACK = new AtomicInteger(2);
  private final Path root;
  private final Path workDir;
  private final Path clusterDir;
  private final KubernetesClient client;
  private final SharedIndexInformer<Pod> pods;
  private final ProcessKubelet gpuKubelet;
  private final Kubectl kubectl;
  private final Map<String, InetSocketAddress> forwards = new ConcurrentHashMap<>();
  private final Thread teardownOnExit;
  private boolean closed;

  private LocalCluster(Path root, Path workDir) {
    this.root = root;
    this.workDir = workDir;
    this.clusterDir = workDir.resolve("cluster");
    this.teardownOnExit = new Thread(this::down, "local-cluster-teardown");
    Runtime.getRuntime().addShutdownHook(teardownOnExit);
    script("up", clusterDir.toString());
    try {
      this.client =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig())))
              .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.kubectl = new Kubectl(kubeconfig());
    Nodes.registerGpuNodes(client);
    this.pods = client.pods().inAnyNamespace().inform();
    this.gpuKubelet =
        new ProcessKubelet(
            client,
            pods,
            Images.of(root),
            Map.of(MODELS_CLAIM, workDir.resolve("pv").resolve(MODELS_CLAIM)),
            workDir.resolve("pods"));
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
                + clusterDir.resolve("logs"));
      }
    }
  }

  /**
   * A namespace with the models claim: a hostPath PersistentVolume on a local directory, bound (the
   * harness plays the volume binder) so the scheduler places its pods. Fill it, then {@link
   * #handToPods} it.
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
    return clusterDir.resolve("kubeconfig");
  }

  public Path workDir() {
    return workDir;
  }

  /** The components' logs, and the pods' logs once the cluster is down. */
  public Path logs() {
    return clusterDir.resolve("logs");
  }

  /**
   * Where a client on this machine reaches a Service: a loopback address bridged to its ClusterIP
   * inside the node's network (kube-proxy picks a pod for each connection); null while the Service
   * does not exist.
   */
  public InetSocketAddress serviceAddress(String namespace, String name) {
    Service service = client.services().inNamespace(namespace).withName(name).get();
    if (service == null || service.getSpec().getClusterIP() == null) {
      return null;
    }
    return reach(service.getSpec().getClusterIP(), service.getSpec().getPorts().get(0).getPort());
  }

  /** Where a client on this machine reaches an address inside the cluster (a pod's, the node's). */
  public InetSocketAddress reach(String clusterAddress, int port) {
    return forwards.computeIfAbsent(
        clusterAddress + ":" + port,
        target -> {
          String local = "127.0.2." + NEXT_LOOPBACK.getAndIncrement();
          script("forward", clusterDir.toString(), local + ":" + port, target);
          return new InetSocketAddress(local, port);
        });
  }

  /** The node's address inside the cluster network (what pods reach node-level services at). */
  public String nodeAddress() {
    return "10.243.0.1";
  }

  /**
   * A command run in the node's network namespace, beside kubelet (pods and Services reachable).
   */
  public List<String> onNode(List<String> command) {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=" + NODE_NETNS));
    full.addAll(command);
    return full;
  }

  /** A second name for an image the node's containerd holds (a "new release" of the same bits). */
  public void tagImage(String image, String newName) {
    run(
        List.of(
            "ctr",
            "--address",
            "/run/sparserollout/containerd.sock",
            "-n",
            "k8s.io",
            "images",
            "tag",
            "--force",
            image,
            newName));
  }

  /** Hands a volume's files to the user the project's pods run as (hostPath keeps ownership). */
  public void handToPods(Path volume) {
    run(List.of("chown", "-R", POD_USER, volume.toString()));
  }

  /** What of this machine the cluster changes while it runs: equal before start and after close. */
  public static String hostState() {
    return run(
        List.of(
            ControlPlaneBinaries.projectRoot().resolve("scripts/local-cluster.sh").toString(),
            "host-state"));
  }

  private void script(String... args) {
    List<String> command = new ArrayList<>();
    command.add(root.resolve("scripts/local-cluster.sh").toString());
    command.addAll(List.of(args));
    run(command);
  }

  private static String run(List<String> command) {
    try {
      // Progress (stderr) shows as it happens; stdout is the answer.
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
      builder.environment().put("OWNER_PID", Long.toString(ProcessHandle.current().pid()));
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        throw new IllegalStateException(
            String.join(" ", command) + " exited " + process.exitValue() + " (its log above)");
      }
      return output;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private synchronized void down() {
    if (!closed) {
      closed = true;
      script("down", clusterDir.toString());
    }
  }

  @Override
  public void close() {
    gpuKubelet.close();
    pods.close();
    client.close();
    down();
    Runtime.getRuntime().removeShutdownHook(teardownOnExit);
  }
}
