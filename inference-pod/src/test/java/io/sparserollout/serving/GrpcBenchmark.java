package io.sparserollout.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sparserollout.serving.grpc.v2.GRPCInferenceServiceGrpc;
import io.sparserollout.serving.grpc.v2.InferTensorContents;
import io.sparserollout.serving.grpc.v2.ModelInferRequest;
import io.sparserollout.serving.grpc.v2.ServerLiveRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * docs/benchmarks.md, serving over gRPC: run by scripts/bench-grpc.sh against a server it started,
 * by the REST benchmark's method (alternating rounds against in-process ONNX Runtime). Arguments:
 * MODEL.onnx HOST:PORT SERVER_PID.
 */
public final class GrpcBenchmark {
  private static final int ROUNDS = 10;

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    String target = args[1];
    long server = Long.parseLong(args[2]);
    ModelInferRequest raw32 = request(32, true);
    ModelInferRequest typed32 = request(32, false);
    ModelInferRequest raw1 = request(1, true);
    ModelInferRequest typed1 = request(1, false);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 2; c++) {
      channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().build());
    }
    try (OrtSession session = ServingBenchmark.session(model)) {
      Map<String, OnnxTensor> feeds32 = ServingBenchmark.feeds(32);
      Map<String, OnnxTensor> feeds1 = ServingBenchmark.feeds(1);
      ServingBenchmark.inProcessSeconds(session, feeds32, 3);
      serverSeconds(channels, raw32, 2);
      serverSeconds(channels, typed32, 2);
      double local = 0;
      double raw = 0;
      double typed = 0;
      double[] localCpu = new double[1];
      double[] rawCpu = new double[2];
      for (int round = 0; round < ROUNDS; round++) {
        double[] c0 = ServingBenchmark.cpu(server);
        local += ServingBenchmark.inProcessSeconds(session, feeds32, 16);
        double[] c1 = ServingBenchmark.cpu(server);
        raw += serverSeconds(channels, raw32, 8);
        double[] c2 = ServingBenchmark.cpu(server);
        typed += serverSeconds(channels, typed32, 8);
        localCpu[0] += c1[1] - c0[1];
        rawCpu[0] += c2[0] - c1[0];
        rawCpu[1] += c2[1] - c1[1];
      }
      System.out.printf(
          "in-process ONNX Runtime, batch 32 x %d tokens: %.1f sentences/s%n",
          ServingBenchmark.SEQ, ROUNDS * 16 * 32 / local);
      System.out.printf(
          "gRPC, batch-32 requests, raw contents, 2 clients: %.1f sentences/s (%.0f%% of"
              + " in-process)%n",
          ROUNDS * 16 * 32 / raw, 100 * local / raw);
      System.out.printf(
          "CPU per batch-32 request: in-process %.1f ms; raw gRPC: server %.1f ms, client %.1f"
              + " ms%n",
          localCpu[0] / (ROUNDS * 16), rawCpu[0] / (ROUNDS * 16), rawCpu[1] / (ROUNDS * 16));
      System.out.printf(
          "gRPC, batch-32 requests, typed contents, 2 clients: %.1f sentences/s (%.0f%% of"
              + " in-process)%n",
          ROUNDS * 16 * 32 / typed, 100 * local / typed);

      var stub = GRPCInferenceServiceGrpc.newBlockingStub(channels.get(0));
      List<Double> emptyMs = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        long t0 = System.nanoTime();
        stub.serverLive(ServerLiveRequest.getDefaultInstance());
        emptyMs.add((System.nanoTime() - t0) / 1e6);
      }
      System.out.printf(
          "gRPC round trip without the model (ServerLive), p50 of the last 1000: %.3f ms%n",
          ServingBenchmark.p50(emptyMs.subList(1000, 2000)));
      latencies(stub, raw1, 200);
      latencies(stub, typed1, 200);
      List<Double> localMs = new ArrayList<>();
      List<Double> rawMs = new ArrayList<>();
      List<Double> typedMs = new ArrayList<>();
      for (int round = 0; round < ROUNDS; round++) {
        localMs.addAll(ServingBenchmark.inProcessLatencies(session, feeds1, 100));
        rawMs.addAll(latencies(stub, raw1, 100));
        typedMs.addAll(latencies(stub, typed1, 100));
      }
      double base = ServingBenchmark.p50(localMs);
      System.out.printf(
          "single sentence, sequential: in-process p50 %.2f ms; gRPC raw p50 %.2f ms (added %.2f"
              + " ms), typed %.2f ms (added %.2f ms)%n",
          base,
          ServingBenchmark.p50(rawMs),
          ServingBenchmark.p50(rawMs) - base,
          ServingBenchmark.p50(typedMs),
          ServingBenchmark.p50(typedMs) - base);
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** Seconds for each channel's client to send requestsEach requests, the clients concurrently. */
  private static double serverSeconds(
      List<ManagedChannel> channels, ModelInferRequest request, int requestsEach) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(channels.size());
    long t0 = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (ManagedChannel channel : channels) {
      var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
      futures.add(
          pool.submit(
              () -> {
                for (int i = 0; i < requestsEach; i++) {
                  stub.modelInfer(request);
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    return (System.nanoTime() - t0) / 1e9;
  }

  private static List<Double> latencies(
      GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub,
      ModelInferRequest request,
      int n) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      stub.modelInfer(request);
      out.add((System.nanoTime() - t0) / 1e6);
    }
    return out;
  }

  /** The REST benchmark's sentences as a ModelInfer request, asking for the last hidden state. */
  private static ModelInferRequest request(int rows, boolean raw) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("minilm");
    request.addOutputsBuilder().setName("last_hidden_state");
    Map<String, long[]> inputs =
        new java.util.LinkedHashMap<>(
            Map.of(
                "input_ids", ServingBenchmark.ids(rows),
                "attention_mask", ServingBenchmark.filled(rows * ServingBenchmark.SEQ, 1),
                "token_type_ids", ServingBenchmark.filled(rows * ServingBenchmark.SEQ, 0)));
    inputs.forEach(
        (name, values) -> {
          var input =
              request
                  .addInputsBuilder()
                  .setName(name)
                  .setDatatype("INT64")
                  .addShape(rows)
                  .addShape(ServingBenchmark.SEQ);
          if (raw) {
            ByteBuffer le = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            le.asLongBuffer().put(values);
            request.addRawInputContents(ByteString.copyFrom(le.array()));
          } else {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (long v : values) {
              contents.addInt64Contents(v);
            }
            input.setContents(contents);
          }
        });
    return request.build();
  }
}
