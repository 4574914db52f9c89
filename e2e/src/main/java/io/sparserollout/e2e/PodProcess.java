package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one container of a pod runs as a local process: the image's files are the module's build
 * output, volume mounts are directories (a PVC is the claim's directory, an emptyDir the pod's
 * own), and every path or Service name in the command line and environment is rewritten to what it
 * is on this machine. Built once per container; {@link #start} runs it.
 */
final class PodProcess {
  private final List<String> command;
  private final Map<String, String> environment;
  private final Path terminationLog;
  private final Path log;

  private PodProcess(
      List<String> command, Map<String, String> environment, Path terminationLog, Path log) {
    this.command = command;
    this.environment = environment;
    this.terminationLog = terminationLog;
    this.log = log;
  }

  /**
   * @param claims directory of each PersistentVolumeClaim by claim name
   * @param env values of the container's env (valueFrom already resolved)
   */
  static PodProcess of(
      Pod pod,
      Container container,
      Images image,
      Path podDir,
      Map<String, Path> claims,
      Map<String, String> env,
      String podIp)
      throws IOException {
    Map<String, Path> mounts = new LinkedHashMap<>(image.mounts());
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume =
          pod.getSpec().getVolumes().stream()
              .filter(v -> v.getName().equals(mount.getName()))
              .findFirst()
              .orElseThrow(() -> new IOException("no volume " + mount.getName()));
      Path dir;
      if (volume.getPersistentVolumeClaim() != null) {
        dir = claims.get(volume.getPersistentVolumeClaim().getClaimName());
        if (dir == null) {
          throw new IOException(
              "PersistentVolumeClaim "
                  + volume.getPersistentVolumeClaim().getClaimName()
                  + " has no directory in the harness");
        }
      } else {
        dir = podDir.resolve("volumes").resolve(volume.getName());
      }
      Files.createDirectories(dir);
      mounts.put(mount.getMountPath(), dir);
    }
    Path terminationLog = podDir.resolve(container.getName() + ".termination-log");
    Files.deleteIfExists(terminationLog);
    String messagePath =
        container.getTerminationMessagePath() == null
            ? "/dev/termination-log"
            : container.getTerminationMessagePath();
    Function<String, String> local = value -> rewrite(value, mounts, messagePath, terminationLog);

    List<String> command = new ArrayList<>();
    List<String> declared =
        container.getCommand() == null || container.getCommand().isEmpty()
            ? image.entrypoint()
            : container.getCommand();
    declared.forEach(part -> command.add(local.apply(part)));
    if (container.getArgs() != null) {
      container.getArgs().forEach(arg -> command.add(local.apply(arg)));
    }
    if ("java".equals(command.get(0))) {
      command.set(0, ProcessHandle.current().info().command().orElse("java"));
    }

    Map<String, String> environment = new LinkedHashMap<>();
    environment.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    environment.put("HOME", podDir.toString());
    environment.put("HOSTNAME", pod.getMetadata().getName());
    Path tmp = mounts.containsKey("/tmp") ? mounts.get("/tmp") : podDir.resolve("tmp");
    Files.createDirectories(tmp);
    // The pod's own network: its servers listen on its address only; small JVMs on 2 cores.
    environment.put("QUARKUS_HTTP_HOST", podIp);
    environment.put("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + tmp + " -XX:+UseSerialGC -Xss512k");
    env.forEach((name, value) -> environment.put(name, local.apply(value)));
    Path log = podDir.resolve(container.getName() + ".log");
    return new PodProcess(command, environment, terminationLog, log);
  }

  Process start() throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(log.getParent().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().clear();
    builder.environment().putAll(environment);
    return builder.start();
  }

  /** The termination message: the file, or with FallbackToLogsOnError the log's last lines. */
  String terminationMessage(boolean failed, boolean fallbackToLogs) throws IOException {
    String message = Files.exists(terminationLog) ? Files.readString(terminationLog) : "";
    if (message.isBlank() && failed && fallbackToLogs && Files.exists(log)) {
      List<String> lines = Files.readAllLines(log);
      message = String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
    return message.length() > 4096 ? message.substring(message.length() - 4096) : message;
  }

  Path log() {
    return log;
  }

  List<String> command() {
    return command;
  }

  /**
   * Replaces mount paths (the longest that matches, at path boundaries) by their local directories,
   * in one pass: a replacement is never rewritten again (the checkout may itself live under /tmp).
   */
  static String rewrite(
      String value, Map<String, Path> mounts, String messagePath, Path terminationLog) {
    if (value == null) {
      return null;
    }
    Map<String, String> targets = new LinkedHashMap<>();
    targets.put(messagePath, terminationLog.toString());
    mounts.forEach((path, dir) -> targets.put(path.replaceAll("/$", ""), dir.toString()));
    List<String> paths = new ArrayList<>(targets.keySet());
    paths.sort(Comparator.comparingInt(String::length).reversed());
    StringBuilder alternatives = new StringBuilder();
    for (String path : paths) {
      alternatives.append(alternatives.length() == 0 ? "" : "|").append(Pattern.quote(path));
    }
    Matcher m =
        Pattern.compile("(?<![\\w./-])(" + alternatives + ")(?=/|$|[\\s,:;])").matcher(value);
    return m.replaceAll(match -> Matcher.quoteReplacement(targets.get(match.group(1))));
  }
}
