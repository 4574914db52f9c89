package io.sparserollout.serving;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses a body announced larger than the limit before reading it, with the protocol's error body
 * (the HTTP server's own refusal has none), and closes the connection so none of it is read.
 */
@Singleton
public class BodyLimit {
  private final long limit;

  public BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize limit) {
    this.limit = limit.asLongValue();
  }

  void install(@Observes Router router) {
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            ctx -> {
              String length = ctx.request().getHeader("Content-Length");
              if (length != null
                  && length.chars().allMatch(Character::isDigit)
                  && length.length() < 19
                  && Long.parseLong(length) > limit) {
                ctx.response()
                    .setStatusCode(413)
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Connection", "close")
                    .end(
                        "{\"error\":\"request body of "
                            + length
                            + " bytes exceeds the limit of "
                            + limit
                            + " bytes\"}")
                    .onComplete(done -> ctx.request().connection().close());
              } else {
                ctx.next();
              }
            });
  }
}
