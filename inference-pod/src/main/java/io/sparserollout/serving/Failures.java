package io.sparserollout.serving;

import io.grpc.Status;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.stage.ServingMetrics;
import java.util.concurrent.CompletionException;

/**
 * What a failed infer request is answered with, over REST and gRPC alike, in one place. The outcome
 * says whose failure it was: a canary is judged only on {@code server_error}, so a client sending
 * bad requests cannot roll a model back.
 *
 * @param httpStatus the REST status
 * @param grpcStatus the gRPC status code
 * @param outcome the metric outcome
 * @param closeConnection the REST connection is closed after the answer (the server is stopping)
 * @param serverFault logged as an error: the client did nothing wrong
 */
public record Failures(
    int httpStatus,
    Status.Code grpcStatus,
    String outcome,
    boolean closeConnection,
    boolean serverFault) {

  public static Failures of(Throwable t) {
    Throwable cause = t instanceof CompletionException c && c.getCause() != null ? c.getCause() : t;
    if (cause instanceof BadRequest) {
      return new Failures(
          400, Status.Code.INVALID_ARGUMENT, ServingMetrics.CLIENT_ERROR, false, false);
    } else if (cause instanceof UnknownModel) {
      return new Failures(404, Status.Code.NOT_FOUND, ServingMetrics.CLIENT_ERROR, false, false);
    } else if (cause instanceof Batcher.QueueFull) {
      return new Failures(
          429, Status.Code.RESOURCE_EXHAUSTED, ServingMetrics.OVERLOADED, false, false);
    } else if (cause instanceof Batcher.ShuttingDown) {
      return new Failures(503, Status.Code.UNAVAILABLE, ServingMetrics.OVERLOADED, true, false);
    }
    return new Failures(500, Status.Code.INTERNAL, ServingMetrics.SERVER_ERROR, false, true);
  }

  /** The message a client sees: a server fault's own text names its cause, nothing more. */
  public static String message(Throwable t) {
    Throwable cause = t instanceof CompletionException c && c.getCause() != null ? c.getCause() : t;
    return of(cause).serverFault() ? "inference failed: " + cause : cause.getMessage();
  }
}
