package io.sparserollout.serving.grpc;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.quarkus.runtime.configuration.MemorySize;
import io.sparserollout.serving.Batcher;
import io.sparserollout.serving.ModelService;
import io.sparserollout.serving.RequestMetrics;
import io.sparserollout.serving.Shadow;
import io.sparserollout.serving.protocol.RequestLimits;
import io.sparserollout.stage.ServingMetrics;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Serves {@code inference.GRPCInferenceService} on its own port (GRPC_PORT, 8081 as in KServe),
 * with grpc-java's Netty. A message over GRPC_MAX_MESSAGE_SIZE is refused (RESOURCE_EXHAUSTED)
 * before it is read; infer calls in flight are capped server-wide, by default at what a quarter of
 * the heap holds of messages that size (at least 16), and a call whose message has not fully
 * arrived within the body read timeout is ended (DEADLINE_EXCEEDED), so a stalled client cannot
 * hold a place.
 */
@Startup
@ApplicationScoped
public class GrpcServer {
  private static final Logger LOG = Logger.getLogger(GrpcServer.class);
  private final Server server;
  private final ExecutorService executor;
  private final ExecutorService calls;
  private final Duration drain;

  public GrpcServer(
      ModelService model,
      Batcher batcher,
      Shadow shadow,
      io.sparserollout.serving.capture.Capture capture,
      RequestMetrics metrics,
      @ConfigProperty(name = "serving.grpc.port") int port,
      @ConfigProperty(name = "quarkus.http.host", defaultValue = "0.0.0.0") String host,
      @ConfigProperty(name = "serving.grpc.max-message-size") MemorySize messageLimit,
      @ConfigProperty(name = "serving.grpc.max-concurrent-calls")
          java.util.Optional<Integer> maxCalls,
      @ConfigProperty(name = "quarkus.http.idle-timeout") Duration idleTimeout,
      @ConfigProperty(name = "serving.body-read-timeout") Duration readTimeout,
      @ConfigProperty(name = "serving.grpc.drain") Duration drain,
      @ConfigProperty(name = "serving.max-batch-size") int maxRows,
      @ConfigProperty(name = "serving.max-dimension") long maxDimension,
      @ConfigProperty(name = "serving.min-batch-size") long minRows,
      @ConfigProperty(name = "serving.min-dimension") long minDimension)
      throws java.io.IOException {
    RequestLimits limits =
        new RequestLimits(maxRows, maxDimension, messageLimit.asLongValue(), minRows, minDimension);
    int callCap =
        maxCalls.orElse(
            (int) Math.max(16, Runtime.getRuntime().maxMemory() / 4 / messageLimit.asLongValue()));
    // Encodes large answers off the model's thread; when it is full the model's thread encodes.
    int threads = Runtime.getRuntime().availableProcessors();
    this.executor =
        new java.util.concurrent.ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(8),
            task -> {
              Thread thread = new Thread(task, "grpc-encoder");
              thread.setDaemon(true);
              return thread;
            },
            new java.util.concurrent.ThreadPoolExecutor.CallerRunsPolicy());
    this.calls =
        java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(2, threads),
            task -> {
              Thread thread = new Thread(task, "grpc-call");
              thread.setDaemon(true);
              return thread;
            });
    this.drain = drain;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .addService(
                ServerInterceptors.intercept(
                    new GrpcInferenceService(
                        model, batcher, shadow, capture, metrics, limits, executor),
                    new CallCap(callCap, readTimeout, metrics)))
            // Messages are read and checked off the I/O threads (a large typed message takes a
            // while to parse); handing off cost nothing measurable (docs/benchmarks.md).
            .executor(calls)
            .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, messageLimit.asLongValue()))
            .maxInboundMetadataSize(16 << 10)
            .maxConnectionIdle(idleTimeout.toMillis(), TimeUnit.MILLISECONDS)
            // A peer gone without a word (its node died) is noticed, and its calls end.
            .keepAliveTime(30, TimeUnit.SECONDS)
            .keepAliveTimeout(10, TimeUnit.SECONDS)
            // Clients that keep their connections alive (KServe's and Triton's do) are not cut off.
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .build()
            .start();
    LOG.infof(
        "OIP v2 gRPC on %s:%d (messages up to %d bytes, %d calls at once)",
        host, server.getPort(), messageLimit.asLongValue(), callCap);
  }

  public int port() {
    return server.getPort();
  }

  /**
   * Before the batcher stops: no new calls (GOAWAY: clients go to other pods), and those in flight
   * are answered while the model still runs (the batcher's observer has priority 1), for at most
   * GRPC_DRAIN: REST's drain has already taken its part of the pod's grace period.
   */
  void stop(@Observes @Priority(0) ShutdownEvent event) throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(drain.toMillis(), TimeUnit.MILLISECONDS)) {
      server.shutdownNow();
    }
    executor.shutdown();
    calls.shutdown();
  }

  /**
   * Refuses a call at once with RESOURCE_EXHAUSTED while the cap's worth are in flight, and ends a
   * call whose message has not fully arrived within the read timeout.
   */
  static final class CallCap implements ServerInterceptor {
    private static final java.util.concurrent.ScheduledThreadPoolExecutor TIMERS = timers();
    private final int max;
    private final Duration readTimeout;
    private final RequestMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** One thread; a cancelled timer leaves the queue at once, not when it would have fired. */
    private static java.util.concurrent.ScheduledThreadPoolExecutor timers() {
      var timers =
          new java.util.concurrent.ScheduledThreadPoolExecutor(
              1,
              task -> {
                Thread thread = new Thread(task, "grpc-read-timeout");
                thread.setDaemon(true);
                return thread;
              });
      timers.setRemoveOnCancelPolicy(true);
      return timers;
    }

    CallCap(int max, Duration readTimeout, RequestMetrics metrics) {
      this.max = max;
      this.readTimeout = readTimeout;
      this.metrics = metrics;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      // Health and metadata are never refused (they hold no tensors), but timed like the rest: a
      // stalled message of any method holds memory.
      boolean counted = "ModelInfer".equals(call.getMethodDescriptor().getBareMethodName());
      if (counted && inFlight.incrementAndGet() > max) {
        inFlight.decrementAndGet();
        // Counted as REST's 429s are: the canary analysis and the alerts see the refusals.
        metrics.record(System.nanoTime(), ServingMetrics.OVERLOADED);
        call.close(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "the server has " + max + " calls in flight; retry later"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
      AtomicBoolean released = new AtomicBoolean();
      Runnable release =
          () -> {
            if (counted && released.compareAndSet(false, true)) {
              inFlight.decrementAndGet();
            }
          };
      // Whichever comes first: the whole message (half-close), or the timeout ending the call.
      AtomicBoolean decided = new AtomicBoolean();
      AtomicBoolean expired = new AtomicBoolean();
      ServerCall.Listener<Q> delegate;
      try {
        delegate = next.startCall(call, headers);
      } catch (RuntimeException e) {
        release.run();
        throw e;
      }
      java.util.concurrent.ScheduledFuture<?> timer =
          readTimeout.isZero() || readTimeout.isNegative()
              ? null
              : TIMERS.schedule(
                  () -> {
                    if (decided.compareAndSet(false, true)) {
                      expired.set(true);
                      call.close(
                          Status.DEADLINE_EXCEEDED.withDescription(
                              "the request did not arrive within " + readTimeout),
                          new Metadata());
                    }
                  },
                  readTimeout.toMillis(),
                  TimeUnit.MILLISECONDS);
      return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          delegate) {
        @Override
        public void onMessage(Q message) {
          if (!expired.get()) {
            super.onMessage(message);
          }
        }

        @Override
        public void onHalfClose() {
          if (decided.compareAndSet(false, true)) {
            if (timer != null) {
              timer.cancel(false);
            }
            super.onHalfClose();
          }
        }

        @Override
        public void onComplete() {
          release.run();
          super.onComplete();
        }

        @Override
        public void onCancel() {
          release.run();
          if (timer != null) {
            timer.cancel(false);
          }
          super.onCancel();
        }
      };
    }
  }
}
