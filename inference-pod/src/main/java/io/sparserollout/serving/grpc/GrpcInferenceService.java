package io.sparserollout.serving.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sparserollout.serving.Batcher;
import io.sparserollout.serving.Failures;
import io.sparserollout.serving.ModelService;
import io.sparserollout.serving.RequestMetrics;
import io.sparserollout.serving.Shadow;
import io.sparserollout.serving.V2Resource;
import io.sparserollout.serving.capture.Capture;
import io.sparserollout.serving.grpc.v2.GRPCInferenceServiceGrpc;
import io.sparserollout.serving.grpc.v2.ModelInferRequest;
import io.sparserollout.serving.grpc.v2.ModelInferResponse;
import io.sparserollout.serving.grpc.v2.ModelMetadataRequest;
import io.sparserollout.serving.grpc.v2.ModelMetadataResponse;
import io.sparserollout.serving.grpc.v2.ModelReadyRequest;
import io.sparserollout.serving.grpc.v2.ModelReadyResponse;
import io.sparserollout.serving.grpc.v2.ServerLiveRequest;
import io.sparserollout.serving.grpc.v2.ServerLiveResponse;
import io.sparserollout.serving.grpc.v2.ServerMetadataRequest;
import io.sparserollout.serving.grpc.v2.ServerMetadataResponse;
import io.sparserollout.serving.grpc.v2.ServerReadyRequest;
import io.sparserollout.serving.grpc.v2.ServerReadyResponse;
import io.sparserollout.serving.protocol.RequestLimits;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import io.sparserollout.stage.ServingMetrics;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The Open Inference Protocol v2 over gRPC: the same model, batcher, limits, metrics and shadow
 * comparison as REST, with the errors as gRPC status codes (see {@link Failures}).
 */
public final class GrpcInferenceService
    extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private static final Logger LOG = Logger.getLogger(GrpcInferenceService.class);
  private static final int INLINE_ENCODE_ELEMENTS = 1 << 16;
  private final ModelService model;
  private final Batcher batcher;
  private final Shadow shadow;
  private final Capture capture;
  private final RequestMetrics metrics;
  private final RequestLimits limits;
  private final java.util.concurrent.Executor encoders;

  public GrpcInferenceService(
      ModelService model,
      Batcher batcher,
      Shadow shadow,
      Capture capture,
      RequestMetrics metrics,
      RequestLimits limits,
      java.util.concurrent.Executor encoders) {
    this.model = model;
    this.batcher = batcher;
    this.shadow = shadow;
    this.capture = capture;
    this.metrics = metrics;
    this.limits = limits;
    this.encoders = encoders;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
    reply(out, ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
    // Readiness ends when a graceful stop begins, as on the REST and probe ports.
    reply(out, ServerReadyResponse.newBuilder().setReady(!model.stopping()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
    try {
      model.require(request.getName(), version(request.getVersion()));
      reply(out, ModelReadyResponse.newBuilder().setReady(!model.stopping()).build());
    } catch (RuntimeException e) {
      out.onError(status(e));
    }
  }

  @Override
  public void serverMetadata(
      ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
    reply(
        out,
        ServerMetadataResponse.newBuilder()
            .setName(V2Resource.SERVER_NAME)
            .setVersion(V2Resource.SERVER_VERSION)
            .build());
  }

  @Override
  public void modelMetadata(
      ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    try {
      model.require(request.getName(), version(request.getVersion()));
      ModelMetadataResponse.Builder metadata =
          ModelMetadataResponse.newBuilder()
              .setName(model.name())
              .addVersions(V2Resource.VERSION)
              .setPlatform(model.backend().platform());
      model.backend().inputs().forEach(spec -> metadata.addInputs(tensor(spec)));
      model.backend().outputs().forEach(spec -> metadata.addOutputs(tensor(spec)));
      reply(out, metadata.build());
    } catch (RuntimeException e) {
      out.onError(status(e));
    }
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
    long start = System.nanoTime();
    // A client gone before its answer: the answer is dropped, not an error here.
    ((ServerCallStreamObserver<ModelInferResponse>) out).setOnCancelHandler(() -> {});
    try {
      model.require(request.getModelName(), version(request.getModelVersion()));
      List<Tensor> inputs = GrpcRequests.parse(request, model.backend().inputs(), limits);
      GrpcResponses.Envelope envelope = GrpcResponses.Envelope.of(request);
      Map<String, Tensor> outputs = batcher.runAtOnceIfIdle(inputs);
      if (outputs != null) {
        answer(envelope, inputs, outputs, out, start);
      } else {
        batcher
            .submit(inputs)
            .whenComplete(
                (batched, failure) -> {
                  if (failure != null) {
                    fail(out, failure, start);
                  } else if (elements(batched) > INLINE_ENCODE_ELEMENTS) {
                    // Large answers are encoded off the model's thread: the next batch goes on.
                    encoders.execute(() -> answer(envelope, inputs, batched, out, start));
                  } else {
                    answer(envelope, inputs, batched, out, start);
                  }
                });
      }
    } catch (Throwable e) {
      // Errors too: a call left open would hold its place in the call cap for good.
      fail(out, e, start);
    }
  }

  private void answer(
      GrpcResponses.Envelope request,
      List<Tensor> inputs,
      Map<String, Tensor> outputs,
      StreamObserver<ModelInferResponse> out,
      long start) {
    try {
      List<Tensor> selected = GrpcResponses.selected(request, outputs);
      shadow.mirror(inputs, selected);
      out.onNext(GrpcResponses.encode(request, model.name(), V2Resource.VERSION, selected));
      out.onCompleted();
      metrics.record(start, ServingMetrics.SUCCESS);
    } catch (Throwable e) {
      fail(out, e, start);
      return;
    }
    capture.offer(inputs);
  }

  private void fail(StreamObserver<?> out, Throwable t, long start) {
    Failures failure = Failures.of(t);
    metrics.record(start, failure.outcome());
    if (failure.serverFault()) {
      LOG.error("inference failed", t);
    }
    try {
      out.onError(status(t));
    } catch (RuntimeException alreadyClosed) {
      LOG.debugf("the call ended before its error could be sent: %s", t);
    }
  }

  private static io.grpc.StatusRuntimeException status(Throwable t) {
    // Bounded: a description travels in a trailer, and a client's header list has a limit.
    String message = String.valueOf(Failures.message(t));
    return Status.fromCode(Failures.of(t).grpcStatus())
        .withDescription(message.length() > 1024 ? message.substring(0, 1024) + "..." : message)
        .asRuntimeException();
  }

  private static ModelMetadataResponse.TensorMetadata tensor(TensorSpec spec) {
    ModelMetadataResponse.TensorMetadata.Builder tensor =
        ModelMetadataResponse.TensorMetadata.newBuilder()
            .setName(spec.name())
            .setDatatype(spec.datatype().name());
    for (long d : spec.shape()) {
      tensor.addShape(d);
    }
    return tensor.build();
  }

  /** An empty version asks for the one the server chooses: the only one served. */
  private static String version(String requested) {
    return requested.isEmpty() ? V2Resource.VERSION : requested;
  }

  private static long elements(Map<String, Tensor> outputs) {
    return outputs.values().stream()
        .mapToLong(t -> java.lang.reflect.Array.getLength(t.data()))
        .sum();
  }

  private static <T> void reply(StreamObserver<T> out, T response) {
    out.onNext(response);
    out.onCompleted();
  }
}
