package io.sparserollout.sparsify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The packaged sparsify jar and the project's scripts, run as a user runs them. */
final class PackagedCli {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of(System.getProperty("project.root"));

  private PackagedCli() {}

  record Result(int exitCode, String stdout, String stderr) {}

  /** scripts/NAME with its arguments, which must succeed; what it printed. */
  static String script(String name, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(ROOT.resolve("scripts").resolve(name).toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(name).isZero();
    return out;
  }

  /** java -jar sparsify.jar ARGS; what it printed on stderr is echoed to the test's log. */
  static Result run(Object... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("java", "-jar", System.getProperty("sparsify.jar")));
    for (Object arg : args) {
      command.add(arg.toString());
    }
    File stderr = Files.createTempFile("sparsify", ".err").toFile();
    Process p = new ProcessBuilder(command).redirectError(stderr).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    String err = Files.readString(stderr.toPath());
    System.err.print(err); // the run's progress, in the test's log
    return new Result(p.exitValue(), stdout, err);
  }

  /** ARGS --json, which must succeed; the printed result. */
  static JsonNode json(Object... args) throws Exception {
    Object[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
    withJson[args.length] = "--json";
    Result result = run(withJson);
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return JSON.readTree(result.stdout());
  }
}
