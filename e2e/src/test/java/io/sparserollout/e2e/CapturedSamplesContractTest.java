package io.sparserollout.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.capture.CaptureRows;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.sparsify.text.CapturedSamples;
import io.sparserollout.stage.CapturedData;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the inference pod captures, sparsify reads back as the same token rows. */
class CapturedSamplesContractTest {
  @TempDir Path dir;

  @Test
  void aPaddedBatchTheServerCapturedIsReadAsItsSentences() throws Exception {
    List<Tensor> request =
        List.of(
            new Tensor(
                "input_ids",
                Datatype.INT64,
                new long[] {2, 4},
                new long[] {101, 7592, 102, 0, 101, 2088, 2000, 102}),
            new Tensor(
                "attention_mask",
                Datatype.INT64,
                new long[] {2, 4},
                new long[] {1, 1, 1, 0, 1, 1, 1, 1}),
            new Tensor("token_type_ids", Datatype.INT64, new long[] {2, 4}, new long[8]));
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    for (byte[] line : CaptureRows.lines(new ObjectMapper(), request)) {
      file.write(line);
    }
    Files.write(
        Files.createDirectories(dir.resolve("2026-12-06T06")).resolve("pod.jsonl"),
        file.toByteArray());

    var read = CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128);

    assertThat(read.rows())
        .extracting(r -> java.util.Arrays.toString(r.ids()))
        .containsExactlyInAnyOrder("[101, 7592, 102]", "[101, 2088, 2000, 102]");
    assertThat(read.data()).isEqualTo(new CapturedData(2, 0, "2026-12-06T06", "2026-12-06T06"));
  }
}
