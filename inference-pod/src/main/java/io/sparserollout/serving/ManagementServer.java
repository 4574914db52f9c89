package io.sparserollout.serving;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The kubelet's probes on a port of their own, with its own event loop: clients that use up the
 * serving port's connections, body budget or event loops cannot make a busy pod look dead.
 */
@Startup
@ApplicationScoped
public class ManagementServer {
  private static final Logger LOG = Logger.getLogger(ManagementServer.class);
  private final Vertx vertx;
  private final HttpServer server;

  public ManagementServer(
      ModelService model,
      @ConfigProperty(name = "serving.management-port") int port,
      // The serving port's address: a pod's, or one of several on a shared host.
      @ConfigProperty(name = "quarkus.http.host", defaultValue = "0.0.0.0") String host)
      throws Exception {
    // Listen only once the model is loaded: until then the startup probe's allowance applies.
    model.name();
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    this.server =
        vertx
            .createHttpServer(
                new HttpServerOptions().setIdleTimeout(30).setMaxInitialLineLength(256))
            .requestHandler(request -> answer(request, model));
    server.listen(port, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    LOG.infof("probes on %s:%d: /health/live, /health/ready", host, server.actualPort());
  }

  public int port() {
    return server.actualPort();
  }

  private static void answer(HttpServerRequest request, ModelService model) {
    var response = request.response().putHeader("Content-Type", "application/json");
    if (request.method() != HttpMethod.GET) {
      response.setStatusCode(405).end("{\"error\":\"only GET\"}");
    } else if ("/health/live".equals(request.path())) {
      response.end("{\"live\":true}");
    } else if ("/health/ready".equals(request.path())) {
      // Readiness ends when a graceful stop begins, as on the serving port.
      if (model.stopping()) {
        response.setStatusCode(503).end("{\"ready\":false}");
      } else {
        response.end("{\"ready\":true}");
      }
    } else {
      response.setStatusCode(404).end("{\"error\":\"probes are /health/live and /health/ready\"}");
    }
  }

  /** Last of all: the probes keep answering (not ready) until the server has drained. */
  void stop(@Observes @Priority(Integer.MAX_VALUE) ShutdownEvent event) {
    server.close();
    vertx.close();
  }
}
