package io.sparserollout.serving;

import io.sparserollout.serving.protocol.BadRequest;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Errors in the protocol's error body: {"error": "message"}. */
public class ErrorResponses {
  @ServerExceptionMapper
  public Response badRequest(BadRequest e) {
    return error(Response.Status.BAD_REQUEST, e.getMessage());
  }

  @ServerExceptionMapper
  public Response unknownModel(UnknownModel e) {
    return error(Response.Status.NOT_FOUND, e.getMessage());
  }

  @ServerExceptionMapper
  public Response queueFull(Batcher.QueueFull e) {
    return error(Response.Status.TOO_MANY_REQUESTS, e.getMessage());
  }

  static Response error(Response.Status status, String message) {
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON)
        .entity(Map.of("error", message))
        .build();
  }
}
