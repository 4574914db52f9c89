package io.sparserollout.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real kube-controller-manager next to a {@link RealApiServer}: Jobs make pods, Deployments make
 * ReplicaSets and pods, owner references are garbage-collected. There is no kubelet; tests play it.
 */
public final class ControllerManager implements AutoCloseable {
  private final Process process;
  private final Path log;

  private ControllerManager(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  public static ControllerManager start(RealApiServer apiServer, Path logDir) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve("kube-controller-manager.log");
      Process process =
          new ProcessBuilder(
                  List.of(
                      ControlPlaneBinaries.directory()
                          .resolve("kube-controller-manager")
                          .toString(),
                      "--kubeconfig=" + apiServer.kubeconfig(),
                      "--controllers=job,replicaset,deployment,garbagecollector",
                      "--leader-elect=false",
                      "--port=0",
                      "--secure-port=0",
                      "--use-service-account-credentials=false",
                      "-v=2"))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      Thread.sleep(500);
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "kube-controller-manager exited at start:\n" + Files.readString(log));
      }
      return new ControllerManager(process, log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Path log() {
    return log;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
