package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged CLI as its own process, with only the AWS settings a test gives it. */
final class SparsifyProcess {
  record Result(int exitCode, String stdout, String stderr) {}

  private SparsifyProcess() {}

  static Result run(Path dir, Map<String, String> env, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("java", "-jar", System.getProperty("sparsify.jar")));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("AWS_"));
    // Nothing here is an EC2 instance: the SDK must not wait on its metadata service.
    builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
    builder.environment().put("HOME", dir.toString());
    builder.environment().putAll(env);
    Path stderr = Files.createTempFile(dir, "err", ".txt");
    Process process = builder.redirectError(stderr.toFile()).start();
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
    return new Result(process.exitValue(), stdout, Files.readString(stderr));
  }
}
