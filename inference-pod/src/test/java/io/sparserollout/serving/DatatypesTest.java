package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.backend.Backends;
import io.sparserollout.serving.backend.InferenceBackend;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.InferRequests;
import io.sparserollout.serving.protocol.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FP16 and BYTES tensors through ONNX Runtime, the JSON protocol and the binary extension. */
class DatatypesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** doubled = half * 2 (FP16), same = text (BYTES, Identity). */
  private static Path model(Path dir) throws Exception {
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("types")
            .addInput(
                TinyModelResource.info("half", TensorProto.DataType.FLOAT16_VALUE, "batch", 2))
            .addInput(TinyModelResource.info("text", TensorProto.DataType.STRING_VALUE, "batch"))
            .addOutput(
                TinyModelResource.info("doubled", TensorProto.DataType.FLOAT16_VALUE, "batch", 2))
            .addOutput(TinyModelResource.info("same", TensorProto.DataType.STRING_VALUE, "batch"))
            .addInitializer(
                TensorProto.newBuilder()
                    .setName("two")
                    .setDataType(TensorProto.DataType.FLOAT16_VALUE)
                    .addInt32Data(0x4000))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Mul")
                    .addInput("half")
                    .addInput("two")
                    .addOutput("doubled"))
            .addNode(
                NodeProto.newBuilder().setOpType("Identity").addInput("text").addOutput("same"))
            .build();
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
            .setGraph(graph)
            .build();
    return Files.write(dir.resolve("types.onnx"), model.toByteArray());
  }

  private static final String REQUEST =
      """
      {"inputs": [
        {"name": "half", "datatype": "FP16", "shape": [2, 2], "data": [[1.5, -0.25], [1000, 3.1]]},
        {"name": "text", "datatype": "BYTES", "shape": [2], "data": ["héllo", ""]}]}
      """;

  @Test
  void fp16AndBytesRoundTripInJson(@TempDir Path dir) throws Exception {
    try (InferenceBackend backend = Backends.open("onnxruntime", model(dir), 1)) {
      assertThat(backend.inputs())
          .extracting(s -> s.datatype())
          .containsExactly(Datatype.FP16, Datatype.BYTES);
      List<Tensor> inputs = InferRequests.parse(JSON.readTree(REQUEST), backend.inputs());
      Map<String, Tensor> outputs = backend.infer(inputs);
      JsonNode response =
          JSON.readTree(
              InferResponses.encode(JSON, "types", "1", null, List.copyOf(outputs.values()), false)
                  .body());
      JsonNode doubled = response.path("outputs").get(0);
      assertThat(doubled.path("datatype").asText()).isEqualTo("FP16");
      assertThat(doubled.path("data").get(0).floatValue()).isEqualTo(3f);
      assertThat(doubled.path("data").get(1).floatValue()).isEqualTo(-0.5f);
      assertThat(doubled.path("data").get(2).floatValue()).isEqualTo(2000f);
      assertThat(doubled.path("data").get(3).floatValue())
          .isEqualTo(6.1992188f); // 3.1 in FP16, doubled
      JsonNode same = response.path("outputs").get(1);
      assertThat(same.path("datatype").asText()).isEqualTo("BYTES");
      assertThat(same.path("data").get(0).asText()).isEqualTo("héllo");
      assertThat(same.path("data").get(1).asText()).isEmpty();
    }
  }

  @Test
  void binaryOutputsCarryHalfBitsAndLengthPrefixedStrings(@TempDir Path dir) throws Exception {
    try (InferenceBackend backend = Backends.open("onnxruntime", model(dir), 1)) {
      Map<String, Tensor> outputs =
          backend.infer(InferRequests.parse(JSON.readTree(REQUEST), backend.inputs()));
      InferResponses.Encoded encoded =
          InferResponses.encode(JSON, "types", "1", null, List.copyOf(outputs.values()), true);
      JsonNode header =
          JSON.readTree(
              new String(encoded.body(), 0, encoded.headerLength(), StandardCharsets.UTF_8));
      assertThat(header.path("outputs").get(0).path("parameters").path("binary_data_size").asInt())
          .isEqualTo(8);
      int utf8 = "héllo".getBytes(StandardCharsets.UTF_8).length;
      assertThat(header.path("outputs").get(1).path("parameters").path("binary_data_size").asInt())
          .isEqualTo(4 + utf8 + 4);
      ByteBuffer raw =
          ByteBuffer.wrap(
                  encoded.body(),
                  encoded.headerLength(),
                  encoded.body().length - encoded.headerLength())
              .order(ByteOrder.LITTLE_ENDIAN);
      assertThat(raw.getShort()).isEqualTo((short) 0x4200); // 3.0
      raw.position(raw.position() + 6);
      assertThat(raw.getInt()).isEqualTo(utf8);
    }
  }

  @Test
  void wrongValuesForTheNewTypesAreRefused(@TempDir Path dir) throws Exception {
    try (InferenceBackend backend = Backends.open("onnxruntime", model(dir), 1)) {
      assertThatThrownBy(
              () ->
                  InferRequests.parse(
                      JSON.readTree(REQUEST.replace("\"héllo\"", "7")), backend.inputs()))
          .isInstanceOf(BadRequest.class)
          .hasMessageContaining("is not BYTES");
      assertThatThrownBy(
              () ->
                  InferRequests.parse(
                      JSON.readTree(REQUEST.replace("1000", "\"x\"")), backend.inputs()))
          .isInstanceOf(BadRequest.class)
          .hasMessageContaining("is not a number");
    }
  }
}
