package io.sparserollout.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.testing.ControlPlaneBinaries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocumentedCommandsTest {
  private final Path root = ControlPlaneBinaries.projectRoot();

  @Test
  void aModuleBuiltWithoutItsSiblingsIsCaughtWithTheDocumentAndLine() {
    String before =
        """
        ./mvnw -B -q test-compile -pl inference-pod
        ./mvnw -B -q dependency:build-classpath -pl inference-pod -Dmdep.outputFile="$PWD/cp.txt"
        """;

    List<String> problems =
        DocumentedCommands.lint(
            root, "scripts/bench-serving.sh:11", before, DocumentedCommands.siblings(root));

    assertThat(problems)
        .hasSize(2)
        .allSatisfy(
            p ->
                assertThat(p)
                    .startsWith("scripts/bench-serving.sh:11: `./mvnw")
                    .contains("builds inference-pod without -am, but it needs stage-api"));
    assertThat(
            DocumentedCommands.lint(
                root,
                "x",
                "./mvnw -B -q test-compile dependency:build-classpath -pl inference-pod -am \\\n"
                    + "  -Dmdep.outputFile=cp.txt\n"
                    + "./mvnw -pl crds test -Dtest=CrdDriftTest   # crds needs no sibling",
                DocumentedCommands.siblings(root)))
        .isEmpty();
  }

  @Test
  void aMissingScriptAndAnUnannotatedBlockAreCaught(@TempDir Path dir) throws Exception {
    assertThat(DocumentedCommands.lint(root, "d.md:3", "scripts/no-such.sh 2", java.util.Map.of()))
        .containsExactly("d.md:3: `scripts/no-such.sh` does not exist");

    Path doc =
        Files.writeString(
            dir.resolve("d.md"),
            "# d\n\n```bash\nls\n```\n\n<!-- check: skip needs a cluster -->\n```bash\nkubectl"
                + " get sm\n```\n");
    List<String> problems = new ArrayList<>();
    List<DocumentedCommands.Block> blocks = DocumentedCommands.blocks(dir, doc, problems);

    assertThat(problems)
        .containsExactly(
            "d.md:3: a command block without <!-- check: run|refuses|skip ... --> above it");
    assertThat(blocks)
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.mode()).isEqualTo(DocumentedCommands.Mode.SKIP);
              assertThat(b.argument()).isEqualTo("needs a cluster");
              assertThat(b.line()).isEqualTo(8);
            });
  }
}
