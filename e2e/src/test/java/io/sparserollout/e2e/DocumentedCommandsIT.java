package io.sparserollout.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.testing.ControlPlaneBinaries;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every command README.md and docs/ show works on this clone: the static checks on every block and
 * script (modules built with their siblings, referenced files present), then the blocks marked to
 * run, in their quick form, each named by document and line when it breaks.
 */
class DocumentedCommandsIT {
  private static final long TIMEOUT_MINUTES = 10;
  private final Path root = ControlPlaneBinaries.projectRoot();

  @Test
  void everyDocumentedCommandWorks() throws Exception {
    Map<String, List<String>> siblings = DocumentedCommands.siblings(root);
    List<String> problems = new ArrayList<>();
    List<DocumentedCommands.Block> blocks = new ArrayList<>();
    for (Path document : DocumentedCommands.documents(root)) {
      blocks.addAll(DocumentedCommands.blocks(root, document, problems));
    }
    for (DocumentedCommands.Block block : blocks) {
      problems.addAll(DocumentedCommands.lint(root, block.where(), block.text(), siblings));
      if (block.argument() != null && block.mode() == DocumentedCommands.Mode.RUN) {
        problems.addAll(DocumentedCommands.lint(root, block.where(), block.argument(), siblings));
      }
    }
    try (Stream<Path> scripts = Files.list(root.resolve("scripts"))) {
      for (Path script : scripts.filter(p -> p.toString().endsWith(".sh")).sorted().toList()) {
        List<String> lines = DocumentedCommands.read(script);
        for (int i = 0; i < lines.size(); i++) {
          problems.addAll(
              DocumentedCommands.lint(
                  root, root.relativize(script) + ":" + (i + 1), lines.get(i), siblings));
        }
      }
    }
    assertThat(problems).as("static checks").isEmpty();

    for (DocumentedCommands.Block block : blocks) {
      switch (block.mode()) {
        case RUN -> problems.addAll(run(block, false));
        case REFUSES -> problems.addAll(run(block, true));
        case SKIP ->
            System.out.println("not run here: " + block.where() + " (" + block.argument() + ")");
      }
    }
    assertThat(problems).as("documented commands").isEmpty();
  }

  private List<String> run(DocumentedCommands.Block block, boolean mustRefuse)
      throws IOException, InterruptedException {
    System.out.println("running " + block.where() + ": " + block.command().strip());
    Path log = Files.createTempFile("documented-command", ".log");
    Process process =
        new ProcessBuilder("bash", "-euo", "pipefail", "-c", block.command())
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean ended = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
    if (!ended) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    String tail = output.length() > 2000 ? output.substring(output.length() - 2000) : output;
    String shown = block.where() + ": `" + block.command().strip() + "`";
    if (!ended) {
      return List.of(shown + " ran past " + TIMEOUT_MINUTES + " minutes:\n" + tail);
    }
    int exit = process.exitValue();
    if (mustRefuse) {
      boolean clear = java.util.regex.Pattern.compile(block.argument()).matcher(output).find();
      return exit != 0 && clear
          ? List.of()
          : List.of(
              shown
                  + " should refuse with /"
                  + block.argument()
                  + "/ but exited "
                  + exit
                  + ":\n"
                  + tail);
    }
    System.out.print(tail.lines().map(l -> "  | " + l + "\n").reduce("", String::concat));
    return exit == 0 ? List.of() : List.of(shown + " exited " + exit + ":\n" + tail);
  }
}
