package io.sparserollout.serving.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.stage.ServingMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Opt-in capture of what clients send (CAPTURE_DIR set by the operator only when the spec asks): a
 * sampled fraction of answered requests has its inputs written to the store, within the limits, off
 * the request's thread. A request never waits for capture and never fails because of it; when the
 * writer falls behind, samples are dropped, not queued.
 */
// At start, not at the first request: an idle pod still deletes what is past retention.
@Startup
@ApplicationScoped
public class Capture {
  private static final Logger LOG = Logger.getLogger(Capture.class);
  private static final int MAX_PENDING = 16;

  /** A sample's largest JSON line: the store then holds at most maxTotal times this. */
  static final int MAX_SAMPLE_BYTES = 1 << 20;

  private static final Duration PURGE_EVERY = Duration.ofMinutes(1);
  private final CaptureStore store;
  private final CaptureLimits limits;
  private final ObjectMapper json;
  private final Clock clock;
  private final DoubleSupplier random;
  private final MeterRegistry registry;
  private final ScheduledExecutorService writer;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong lastFailureLog = new AtomicLong(Long.MIN_VALUE);

  @Inject
  public Capture(
      @ConfigProperty(name = "serving.capture.dir") Optional<String> dir,
      @ConfigProperty(name = "serving.capture.enabled") boolean enabled,
      @ConfigProperty(name = "serving.capture.fraction") double fraction,
      @ConfigProperty(name = "serving.capture.max-per-hour") long maxPerHour,
      @ConfigProperty(name = "serving.capture.max-total") long maxTotal,
      @ConfigProperty(name = "serving.capture.retention") Duration retention,
      ObjectMapper json,
      MeterRegistry registry) {
    this(
        dir.filter(d -> !d.isBlank()).map(Path::of).orElse(null),
        new CaptureLimits(enabled, fraction, maxPerHour, maxTotal, retention),
        System.getenv().getOrDefault("HOSTNAME", "pod"),
        json,
        registry,
        Clock.systemUTC(),
        () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());
  }

  Capture(
      Path dir,
      CaptureLimits limits,
      String pod,
      ObjectMapper json,
      MeterRegistry registry,
      Clock clock,
      DoubleSupplier random) {
    this.store = dir == null ? null : new CaptureStore(dir, pod, json);
    this.limits = limits;
    this.json = json;
    this.clock = clock;
    this.random = random;
    this.registry = registry;
    if (store == null) {
      this.writer = null;
      return;
    }
    this.writer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "capture");
              t.setDaemon(true);
              return t;
            });
    if (!Files.isDirectory(dir)) {
      LOG.errorf("capture is configured but %s is not a folder: nothing will be captured", dir);
    }
    // Every series from the start, at 0: a rate or an alert over them needs a first value, and a
    // pod whose samples all went over the shared limit still says so.
    registry.counter(ServingMetrics.CAPTURE_SAMPLES);
    for (String reason : List.of(REASON_BUSY, REASON_LIMIT, REASON_ERROR, REASON_SIZE)) {
      registry.counter(ServingMetrics.CAPTURE_DROPPED, ServingMetrics.REASON, reason);
    }
    LOG.infof(
        "capture %s into %s: fraction %s, at most %d an hour and %d in all, kept %s",
        limits.enabled() ? "on" : "off (deleting expired samples only)",
        dir,
        limits.fraction(),
        limits.maxPerHour(),
        limits.maxTotal(),
        limits.retention());
    // Idle pods and pods with capture turned off still delete what is past retention.
    writer.scheduleWithFixedDelay(this::purge, 0, PURGE_EVERY.toSeconds(), TimeUnit.SECONDS);
  }

  /**
   * Called once a request was answered: maybe keeps a copy of its inputs. Never throws: capture
   * must not turn an answered request into a failed one.
   */
  public void offer(List<Tensor> inputs) {
    try {
      if (store == null || !limits.enabled() || random.getAsDouble() >= limits.fraction()) {
        return;
      }
      if (pending.incrementAndGet() > MAX_PENDING) {
        pending.decrementAndGet();
        refused(REASON_BUSY, 1);
        return;
      }
      try {
        writer.execute(
            () -> {
              try {
                write(inputs);
              } finally {
                pending.decrementAndGet();
              }
            });
      } catch (RuntimeException stopped) {
        // The writer is shut down: the pod is stopping.
        pending.decrementAndGet();
        refused(REASON_BUSY, 1);
      }
    } catch (RuntimeException e) {
      logFailure(e);
    }
  }

  private void write(List<Tensor> inputs) {
    try {
      List<byte[]> rows = CaptureRows.lines(json, inputs);
      List<byte[]> samples = rows.stream().filter(r -> r.length <= MAX_SAMPLE_BYTES).toList();
      refused(REASON_SIZE, rows.size() - samples.size());
      if (samples.isEmpty()) {
        return;
      }
      int kept = store.add(clock.instant(), samples, limits);
      if (kept > 0) {
        registry.counter(ServingMetrics.CAPTURE_SAMPLES).increment(kept);
      }
      refused(REASON_LIMIT, samples.size() - kept);
    } catch (Exception e) {
      refused(REASON_ERROR, 1);
      logFailure(e);
    }
  }

  private void purge() {
    try {
      store.purge(clock.instant(), limits);
    } catch (Exception e) {
      logFailure(e);
    }
  }

  private void logFailure(Exception e) {
    // Once a minute at most: a store gone read-only fails every sample.
    long now = System.nanoTime();
    long last = lastFailureLog.get();
    if ((last == Long.MIN_VALUE || now - last > 60_000_000_000L)
        && lastFailureLog.compareAndSet(last, now)) {
      LOG.errorf("capture failed (requests are answered as before): %s", e.toString());
    }
  }

  static final String REASON_BUSY = "busy";
  static final String REASON_LIMIT = "limit";
  static final String REASON_ERROR = "error";
  static final String REASON_SIZE = "size";

  private void refused(String reason, int samples) {
    if (samples > 0) {
      registry
          .counter(ServingMetrics.CAPTURE_DROPPED, ServingMetrics.REASON, reason)
          .increment(samples);
    }
  }

  /** Waits for samples already handed over (tests), at most the given time. */
  boolean drain(Duration limit) throws InterruptedException {
    if (writer == null) {
      return true;
    }
    var done = writer.submit(() -> {});
    try {
      done.get(limit.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  void stop(@Observes ShutdownEvent event) {
    if (writer != null) {
      writer.shutdown();
    }
  }
}
