package io.sparserollout.serving.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Half;
import io.sparserollout.serving.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureRowsTest {
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void eachRowIsAV2RequestOfOneRow() throws Exception {
    List<byte[]> lines =
        CaptureRows.lines(
            json,
            List.of(
                new Tensor(
                    "input_ids", Datatype.INT64, new long[] {2, 3}, new long[] {1, 2, 3, 4, 5, 6}),
                new Tensor(
                    "attention_mask",
                    Datatype.INT64,
                    new long[] {2, 3},
                    new long[] {1, 1, 1, 1, 1, 0})));

    assertThat(lines).hasSize(2);
    String second = new String(lines.get(1), StandardCharsets.UTF_8);
    assertThat(second).endsWith("\n").doesNotContain("\n{");
    JsonNode request = json.readTree(second);
    assertThat(request.toString())
        .isEqualTo(
            "{\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[1,3],"
                + "\"data\":[4,5,6]},{\"name\":\"attention_mask\",\"datatype\":\"INT64\","
                + "\"shape\":[1,3],\"data\":[1,1,0]}]}");
  }

  @Test
  void inputsWithoutASharedBatchAreOneSample() throws Exception {
    List<byte[]> lines =
        CaptureRows.lines(
            json,
            List.of(
                new Tensor(
                    "x", Datatype.FP16, new long[] {2}, new short[] {Half.fromFloat(1.5f), 0}),
                new Tensor("scale", Datatype.FP32, new long[] {1}, new float[] {2})));

    assertThat(lines).hasSize(1);
    JsonNode request = json.readTree(lines.get(0));
    assertThat(request.at("/inputs/0/shape").toString()).isEqualTo("[2]");
    assertThat(request.at("/inputs/0/data").toString()).isEqualTo("[1.5,0.0]");
  }

  @Test
  void textStaysText() throws Exception {
    List<byte[]> lines =
        CaptureRows.lines(
            json,
            List.of(
                new Tensor("text", Datatype.BYTES, new long[] {2}, new String[] {"a \"b\"", "c"})));

    assertThat(lines).hasSize(2);
    assertThat(json.readTree(lines.get(0)).at("/inputs/0/data/0").asText()).isEqualTo("a \"b\"");
  }

  @Test
  void bytesAreNumbersNotBase64() throws Exception {
    List<byte[]> lines =
        CaptureRows.lines(
            json,
            List.of(
                new Tensor("a", Datatype.INT8, new long[] {1, 2}, new byte[] {-1, 7}),
                new Tensor("b", Datatype.UINT8, new long[] {1, 2}, new byte[] {-1, 7})));

    JsonNode request = json.readTree(lines.get(0));
    assertThat(request.at("/inputs/0/data").toString()).isEqualTo("[-1,7]");
    assertThat(request.at("/inputs/1/data").toString()).isEqualTo("[255,7]");
  }
}
