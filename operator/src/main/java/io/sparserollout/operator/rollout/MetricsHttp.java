package io.sparserollout.operator.rollout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one HTTP client of metric reads (pod scrapes, PromQL): plain HTTP/1.1, a hard deadline on top
 * of the client's own timeouts, and a cap on the body. On a real cluster the JDK client's default
 * h2c upgrade to an inference pod left a reconcile thread parked for minutes past its request
 * timeout.
 */
public final class MetricsHttp {
  /** An inference pod's /metrics is a few KiB, a PromQL answer of these sums less. */
  static final long BODY_CAP = 4L << 20;

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(3))
          .build();

  private MetricsHttp() {}

  /** GET without waiting: the answer, or an exception after {@code deadline}. */
  public static CompletableFuture<HttpResponse<String>> getAsync(URI uri, Duration deadline) {
    CompletableFuture<HttpResponse<String>> response =
        HTTP.sendAsync(
            HttpRequest.newBuilder(uri).timeout(deadline).GET().build(),
            CappedBody.handler(BODY_CAP));
    // Past the deadline the exchange itself is abandoned, not only the wait for it.
    return response
        .orTimeout(deadline.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (answer, error) -> {
              if (error != null) {
                response.cancel(true);
              }
            });
  }

  /** GET with a deadline for the whole exchange: connect, request, body. */
  public static HttpResponse<String> get(URI uri, Duration deadline)
      throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<String>> response =
        HTTP.sendAsync(
            HttpRequest.newBuilder(uri).timeout(deadline).GET().build(),
            CappedBody.handler(BODY_CAP));
    try {
      return response.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      response.cancel(true);
      throw new HttpTimeoutException(uri + " gave no complete answer within " + deadline);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(uri + ": " + e.getCause(), e.getCause());
    }
  }
}
