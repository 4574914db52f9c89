package io.sparserollout.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The committed CRD under manifests/crds must be exactly what the Java types generate. */
class CrdDriftTest {

  @Test
  void committedCrdMatchesTheJavaTypes() throws Exception {
    Path committed = Path.of(System.getProperty("crd.committed"));
    String generated = CrdGeneration.generateYaml();
    if (Boolean.getBoolean("crd.update")) {
      Files.createDirectories(committed.getParent());
      Files.writeString(committed, generated);
    }
    assertThat(committed).exists();
    assertThat(Files.readString(committed))
        .as(
            "%s is stale: the Java types changed. Regenerate it with"
                + " ./mvnw -pl crds test -Dtest=CrdDriftTest -Dcrd.update=true",
            committed)
        .isEqualTo(generated);
  }
}
