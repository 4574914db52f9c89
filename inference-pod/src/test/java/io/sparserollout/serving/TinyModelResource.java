package io.sparserollout.serving;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Serves a small ONNX model built in code: embeddings = table[input_ids] * scale, with table[i][j]
 * = i + j / 10, input_ids INT64 [batch, seq], scale FP32 [1], embeddings FP32 [batch, seq, 4].
 */
public class TinyModelResource implements QuarkusTestResourceLifecycleManager {
  static final int VOCAB = 16;
  static final int WIDTH = 4;

  private com.sun.net.httpserver.HttpServer baseline;

  @Override
  public Map<String, String> start() {
    try {
      Path file = Files.createTempDirectory("model").resolve("tiny.onnx");
      Files.write(file, model().toByteArray());
      baseline = baseline();
      return Map.of(
          "serving.model-path",
          file.toString(),
          "serving.model-name",
          "tiny",
          "serving.shadow.baseline-url",
          "http://127.0.0.1:" + baseline.getAddress().getPort() + "/v2/models/tiny",
          "serving.shadow.fraction",
          "1.0");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void stop() {
    if (baseline != null) {
      baseline.stop(0);
    }
  }

  /** A stand-in dense baseline computing the same function: shadows agree completely. */
  private static com.sun.net.httpserver.HttpServer baseline() throws java.io.IOException {
    var server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    server.createContext(
        "/v2/models/tiny/infer",
        exchange -> {
          var request = json.readTree(exchange.getRequestBody());
          if (request.path("parameters").has("binary_data_output")) {
            // The comparison reads JSON: a mirrored request must not ask for binary outputs.
            exchange.sendResponseHeaders(400, -1);
            exchange.close();
            return;
          }
          var ids = new java.util.ArrayList<Long>();
          double scale = 1;
          for (var input : request.path("inputs")) {
            if (input.path("name").asText().equals("scale")) {
              scale = input.path("data").get(0).asDouble();
            } else {
              input.path("data").forEach(row -> row.forEach(id -> ids.add(id.asLong())));
            }
          }
          var data = json.createArrayNode();
          for (long id : ids) {
            for (int j = 0; j < WIDTH; j++) {
              data.add(value(id, j) * scale);
            }
          }
          var response = json.createObjectNode();
          response.putArray("outputs").addObject().put("name", "embeddings").set("data", data);
          byte[] bytes = json.writeValueAsBytes(response);
          exchange.sendResponseHeaders(200, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
    return server;
  }

  static float value(long id, int j) {
    return id + j / 10f;
  }

  private static ModelProto model() {
    TensorProto.Builder table =
        TensorProto.newBuilder()
            .setName("table")
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addDims(VOCAB)
            .addDims(WIDTH);
    for (int i = 0; i < VOCAB; i++) {
      for (int j = 0; j < WIDTH; j++) {
        table.addFloatData(value(i, j));
      }
    }
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("tiny")
            .addInput(info("input_ids", TensorProto.DataType.INT64_VALUE, "batch", "seq"))
            .addInput(info("scale", TensorProto.DataType.FLOAT_VALUE, 1))
            .addOutput(info("embeddings", TensorProto.DataType.FLOAT_VALUE, "batch", "seq", WIDTH))
            .addInitializer(table)
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Gather")
                    .addInput("table")
                    .addInput("input_ids")
                    .addOutput("rows"))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Mul")
                    .addInput("rows")
                    .addInput("scale")
                    .addOutput("embeddings"))
            .build();
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(graph)
        .build();
  }

  static ValueInfoProto info(String name, int type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      shape.addDim(
          d instanceof String s
              ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
              : TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
        .build();
  }
}
