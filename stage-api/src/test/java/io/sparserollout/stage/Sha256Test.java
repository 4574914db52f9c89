package io.sparserollout.stage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Sha256Test {
  @TempDir Path dir;

  @Test
  void aFileMatchesOnlyTheDigestOfItsOwnBytes() throws Exception {
    Path file = Files.writeString(dir.resolve("model.onnx"), "abc");
    String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    assertThat(Sha256.of(file)).isEqualTo(abc);
    assertThat(Sha256.mismatch(file, abc)).isNull();
    assertThat(Sha256.mismatch(file, abc.toUpperCase())).isNull();
    assertThat(Sha256.mismatch(file, null)).isNull();
    assertThat(Sha256.mismatch(file, "0".repeat(64)))
        .contains("is not the artifact recorded for it")
        .contains(abc);
  }

  @Test
  void replacedExternalWeightsChangeTheModelsDigest() throws Exception {
    Path model = Files.writeString(dir.resolve("big.onnx"), "graph");
    String alone = Sha256.of(model);
    Files.writeString(dir.resolve("big.onnx.data"), "weights");
    String withData = Sha256.of(model);

    assertThat(withData).isNotEqualTo(alone);
    Files.writeString(dir.resolve("big.onnx.data"), "other weights");
    assertThat(Sha256.mismatch(model, withData)).contains("is not the artifact recorded for it");
  }
}
