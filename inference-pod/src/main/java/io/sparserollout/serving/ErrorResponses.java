package io.sparserollout.serving;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Errors of the JAX-RS endpoints in the protocol's error body (InferRoute writes its own). */
public class ErrorResponses {
  @ServerExceptionMapper
  public Response unknownModel(UnknownModel e) {
    return error(Response.Status.NOT_FOUND, e.getMessage());
  }

  static Response error(Response.Status status, String message) {
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON)
        .entity(Map.of("error", message))
        .build();
  }
}
