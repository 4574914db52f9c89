package io.sparserollout.tensorrt;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this node has an NVIDIA driver at all: checked before any native library loads. */
public final class Gpus {
  private Gpus() {}

  public static boolean driverPresent() {
    return Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/dev/nvidia0"));
  }
}
