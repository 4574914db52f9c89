package io.sparserollout.operator.rollout;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Canary measurements (pod scrapes, PromQL) taken off the reconcile threads, a few at a time: a
 * reconcile that finds an analysis due asks for one and goes on; when it is done the model is
 * reconciled again and takes the verdict. A measurement has a total deadline, and a full pool is
 * "metrics unavailable": slow or hostile metrics endpoints hold no reconcile thread and no other
 * model back.
 */
public final class Measurements implements AutoCloseable {
  /** Which model's which revision. */
  public record Key(String namespace, String name, String uid, String revision) {}

  private record Taken(AnalysisVerdict verdict, Instant at) {}

  /** A finished measurement older than this is stale: taken for an analysis nobody came for. */
  private static final Duration FRESH = Duration.ofMinutes(5);

  private final ExecutorService pool;
  private final Duration deadline;
  private final Clock clock;
  private final Consumer<Key> done;
  private final Map<Key, CompletableFuture<AnalysisVerdict>> inFlight = new ConcurrentHashMap<>();
  private final Map<Key, Taken> finished = new ConcurrentHashMap<>();

  /**
   * @param threads measurements taken at once
   * @param deadline the longest one may take, all its reads together
   * @param done told when a measurement for a key is ready to be taken
   */
  public Measurements(int threads, Duration deadline, Clock clock, Consumer<Key> done) {
    this.pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(256),
            task -> {
              Thread thread = new Thread(task, "canary-analysis");
              thread.setDaemon(true);
              return thread;
            });
    this.deadline = deadline;
    this.clock = clock;
    this.done = done;
  }

  /**
   * The finished measurement for {@code key}, or empty after starting one ({@code measure}) if none
   * is running.
   */
  public Optional<AnalysisVerdict> take(Key key, Supplier<AnalysisVerdict> measure) {
    Taken taken = finished.remove(key);
    if (taken != null && taken.at().plus(FRESH).isAfter(clock.instant())) {
      return Optional.of(taken.verdict());
    }
    CompletableFuture<AnalysisVerdict> mine = new CompletableFuture<>();
    if (inFlight.putIfAbsent(key, mine) == null) {
      mine.completeOnTimeout(
              unavailable("the measurement took longer than " + readable(deadline)),
              deadline.toMillis(),
              TimeUnit.MILLISECONDS)
          .thenAccept(
              verdict -> {
                finished.put(key, new Taken(verdict, clock.instant()));
                inFlight.remove(key, mine);
                done.accept(key);
              });
      try {
        pool.execute(
            () -> {
              try {
                mine.complete(measure.get());
              } catch (RuntimeException e) {
                mine.complete(unavailable("the measurement failed: " + e));
              }
            });
      } catch (RejectedExecutionException full) {
        mine.complete(unavailable("too many canaries are being measured at once"));
      }
    }
    return Optional.empty();
  }

  private static String readable(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static AnalysisVerdict unavailable(String why) {
    return new AnalysisVerdict(
        AnalysisVerdict.Outcome.INCONCLUSIVE, "metrics unavailable: " + why, Measurement.empty());
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
