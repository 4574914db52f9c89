package io.sparserollout.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One control-plane binary of {@link ControlPlaneBinaries} run as a process, logging to a file. */
public class ControlPlaneProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  protected ControlPlaneProcess(String binary, List<String> args, Path logDir) {
    try {
      Files.createDirectories(logDir);
      log = logDir.resolve(binary + ".log");
      List<String> command = new ArrayList<>();
      command.add(ControlPlaneBinaries.directory().resolve(binary).toString());
      command.addAll(args);
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      Thread.sleep(500);
      if (!process.isAlive()) {
        throw new IllegalStateException(binary + " exited at start:\n" + Files.readString(log));
      }
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
