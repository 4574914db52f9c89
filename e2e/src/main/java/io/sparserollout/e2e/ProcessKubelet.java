package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sparserollout.testing.PodStatuses;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A kubelet for the harness's GPU nodes only (they exist in the API, not on this machine): runs the
 * containers of pods the scheduler bound to them as local processes (same command, arguments and
 * environment; see {@link PodProcess}), each pod on its own loopback address. It reports status
 * honestly: Running once started, Ready when the readiness probe answers, Succeeded or Failed with
 * the exit code and termination message. Pods of any other image fail with a clear reason. Deleted
 * pods get a graceful stop: not Ready first, so traffic drains, then SIGTERM.
 *
 * <p>Over 300 lines on purpose: a pod's whole life as a kubelet sees it (start, probes, exit,
 * termination, clean-up) in one place, for the GPU nodes only.
 */
final class ProcessKubelet implements AutoCloseable {
  private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(10);
  private static final Duration DRAIN = Duration.ofSeconds(2);
  private final KubernetesClient client;
  private final SharedIndexInformer<Pod> pods;
  private final List<Images> images;
  private final Map<String, Path> claims;
  private final Path workDir;
  private final Map<String, RunningPod> running = new ConcurrentHashMap<>();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "process-kubelet");
            t.setDaemon(true);
            return t;
          });
  private final HttpClient probes =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private volatile boolean stopped;

  /** One pod this kubelet runs. */
  private static final class RunningPod {
    final String ip;
    volatile Process main;
    volatile PodProcess mainSpec;
    volatile boolean terminating;

    RunningPod(String ip) {
      this.ip = ip;
    }
  }

  ProcessKubelet(
      KubernetesClient client,
      SharedIndexInformer<Pod> pods,
      List<Images> images,
      Map<String, Path> claims,
      Path workDir) {
    this.client = client;
    this.pods = pods;
    this.images = images;
    this.claims = claims;
    this.workDir = workDir;
    threads.submit(this::loop);
  }

  private void loop() {
    while (!stopped) {
      for (Pod pod : pods.getStore().list()) {
        String node = pod.getSpec().getNodeName();
        if (node == null || !Nodes.gpuNodes().contains(node)) {
          continue;
        }
        String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        RunningPod run = running.get(key);
        if (pod.getMetadata().getDeletionTimestamp() != null) {
          if (run == null || !run.terminating) {
            RunningPod stopping = run == null ? new RunningPod(null) : run;
            stopping.terminating = true;
            running.put(key, stopping);
            threads.submit(() -> terminate(pod, stopping));
          }
        } else if (run == null && isPending(pod)) {
          RunningPod starting = new RunningPod("127.0.0." + NEXT_ADDRESS.getAndIncrement());
          running.put(key, starting);
          threads.submit(() -> runPod(pod, starting));
        }
      }
      sleep(Duration.ofMillis(200));
    }
  }

  private static boolean isPending(Pod pod) {
    return pod.getStatus() == null
        || pod.getStatus().getPhase() == null
        || "Pending".equals(pod.getStatus().getPhase());
  }

  private void runPod(Pod pod, RunningPod run) {
    Path podDir =
        workDir.resolve(pod.getMetadata().getNamespace() + "_" + pod.getMetadata().getName());
    try {
      Files.createDirectories(podDir);
      for (Container init : pod.getSpec().getInitContainers()) {
        PodProcess spec = prepare(pod, init, podDir, run);
        if (spec == null) {
          return;
        }
        Process process = spec.start();
        int exit = process.waitFor();
        if (exit != 0) {
          String message = spec.terminationMessage(true, true);
          fail(
              pod,
              "InitContainerFailed",
              "init container " + init.getName() + " exited " + exit + ": " + message);
          return;
        }
      }
      Container container = pod.getSpec().getContainers().get(0);
      PodProcess spec = prepare(pod, container, podDir, run);
      if (spec == null) {
        return;
      }
      run.mainSpec = spec;
      if (run.terminating) {
        return;
      }
      run.main = spec.start();
      String now = PodStatuses.now();
      boolean hasProbe = container.getReadinessProbe() != null;
      PodStatuses.update(
          client,
          pod,
          p -> {
            p.getStatus().setPhase("Running");
            p.getStatus().setPodIP(run.ip);
            p.getStatus().setHostIP("127.0.0.1");
            p.getStatus().setStartTime(now);
            p.getStatus().setConditions(PodStatuses.conditions(!hasProbe, now));
            p.getStatus()
                .setContainerStatuses(List.of(PodStatuses.running(container, !hasProbe, now)));
            return p;
          });
      if (hasProbe) {
        threads.submit(() -> probe(pod, container, run));
      }
      int exit = run.main.waitFor();
      if (!run.terminating) {
        exited(pod, container, spec, exit);
      }
    } catch (IOException | KubernetesClientException e) {
      fail(pod, "ProcessKubeletError", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The process for a container, or null after failing the pod (an image that cannot run here). */
  private PodProcess prepare(Pod pod, Container container, Path podDir, RunningPod run)
      throws IOException {
    Images image = Images.find(images, container.getImage());
    if (image == null) {
      fail(
          pod,
          "ImageNotRunnable",
          "the e2e kubelet runs only the project's images ("
              + String.join(", ", images.stream().map(Images::repository).toList())
              + "); "
              + container.getImage()
              + " cannot run here");
      return null;
    }
    // Stage pods on GPU nodes talk to neither the API server nor Services.
    Map<String, String> env = values(pod, container.getEnv(), run.ip);
    return PodProcess.of(pod, container, image, podDir, claims, env, run.ip);
  }

  /** Plain values, and valueFrom: Secret keys and the downward API's name, namespace and IP. */
  private Map<String, String> values(Pod pod, List<EnvVar> env, String ip) {
    Map<String, String> values = new LinkedHashMap<>();
    for (EnvVar var : env) {
      if (var.getValue() != null) {
        values.put(var.getName(), var.getValue());
      } else if (var.getValueFrom() != null && var.getValueFrom().getFieldRef() != null) {
        String field = var.getValueFrom().getFieldRef().getFieldPath();
        values.put(
            var.getName(),
            switch (field) {
              case "metadata.namespace" -> pod.getMetadata().getNamespace();
              case "metadata.name" -> pod.getMetadata().getName();
              case "status.podIP" -> ip;
              default -> "";
            });
      } else if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
        var ref = var.getValueFrom().getSecretKeyRef();
        Secret secret =
            client
                .secrets()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(ref.getName())
                .get();
        if (secret != null
            && secret.getData() != null
            && secret.getData().get(ref.getKey()) != null) {
          values.put(
              var.getName(),
              new String(
                  Base64.getDecoder().decode(secret.getData().get(ref.getKey())),
                  StandardCharsets.UTF_8));
        }
      }
    }
    return values;
  }

  private void probe(Pod pod, Container container, RunningPod run) {
    Probe probe = container.getReadinessProbe();
    int port = port(container, probe.getHttpGet().getPort());
    URI uri = URI.create("http://" + run.ip + ":" + port + probe.getHttpGet().getPath());
    Boolean last = null;
    while (!stopped && !run.terminating && run.main != null && run.main.isAlive()) {
      boolean ready;
      try {
        ready =
            probes
                        .send(
                            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                    / 100
                == 2;
      } catch (IOException e) {
        ready = false;
      } catch (InterruptedException e) {
        return;
      }
      if (last == null || ready != last) {
        boolean value = ready;
        String now = PodStatuses.now();
        PodStatuses.update(
            client,
            pod,
            p -> {
              p.getStatus().setConditions(PodStatuses.conditions(value, now));
              p.getStatus()
                  .setContainerStatuses(List.of(PodStatuses.running(container, value, now)));
              return p;
            });
        last = ready;
      }
      sleep(Duration.ofMillis(ready ? 2000 : 500));
    }
  }

  private static int port(Container container, io.fabric8.kubernetes.api.model.IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return container.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .findFirst()
        .orElseThrow()
        .getContainerPort();
  }

  private void exited(Pod pod, Container container, PodProcess spec, int exit) throws IOException {
    boolean fallback = "FallbackToLogsOnError".equals(container.getTerminationMessagePolicy());
    String message = spec.terminationMessage(exit != 0, fallback);
    String now = PodStatuses.now();
    PodStatuses.update(
        client,
        pod,
        p -> {
          p.getStatus().setPhase(exit == 0 ? "Succeeded" : "Failed");
          p.getStatus().setConditions(PodStatuses.conditions(false, now));
          p.getStatus()
              .setContainerStatuses(List.of(PodStatuses.terminated(container, exit, message, now)));
          return p;
        });
  }

  private void fail(Pod pod, String reason, String message) {
    try {
      PodStatuses.update(
          client,
          pod,
          p -> {
            p.getStatus().setPhase("Failed");
            p.getStatus().setReason(reason);
            p.getStatus().setMessage(message);
            return p;
          });
    } catch (KubernetesClientException e) {
      // The pod is gone.
    }
  }

  /** Not Ready first (Services stop sending it traffic), then SIGTERM, then the object goes. */
  private void terminate(Pod pod, RunningPod run) {
    try {
      if (run.main != null && run.main.isAlive()) {
        String now = PodStatuses.now();
        PodStatuses.update(
            client,
            pod,
            p -> {
              p.getStatus().setConditions(PodStatuses.conditions(false, now));
              return p;
            });
        sleep(DRAIN);
        run.main.destroy();
        if (!run.main.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          run.main.destroyForcibly();
        }
      }
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .withGracePeriod(0)
          .delete();
    } catch (KubernetesClientException e) {
      // Already gone.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stopped = true;
    for (RunningPod run : running.values()) {
      if (run.main != null) {
        run.main.destroy();
      }
    }
    for (RunningPod run : running.values()) {
      try {
        if (run.main != null && !run.main.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          run.main.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    threads.shutdownNow();
  }
}
