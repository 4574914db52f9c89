package io.sparserollout.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MeasurementsTest {
  private static final Measurements.Key KEY = new Measurements.Key("ml", "minilm", "uid", "r1");
  private static final AnalysisVerdict PASSED =
      new AnalysisVerdict(AnalysisVerdict.Outcome.PASSED, "fine", Measurement.empty());

  @Test
  void aMeasurementIsTakenOffTheCallersThreadAndHandedOverWhenDone() throws Exception {
    List<Measurements.Key> done = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    try (Measurements measurements =
        new Measurements(2, Duration.ofSeconds(10), Clock.systemUTC(), done::add)) {
      long start = System.nanoTime();
      var first =
          measurements.take(
              KEY,
              () -> {
                started.incrementAndGet();
                hold(release);
                return PASSED;
              });
      // The caller (a reconcile) neither waits nor starts a second one for the same model.
      assertThat(first).isEmpty();
      assertThat(measurements.take(KEY, () -> PASSED)).isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));

      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> done.contains(KEY));
      assertThat(measurements.take(KEY, () -> PASSED)).contains(PASSED);
      assertThat(started.get()).isEqualTo(1);
    }
  }

  @Test
  void aMeasurementThatHangsIsMetricsUnavailableAtItsDeadline() {
    List<Measurements.Key> done = new CopyOnWriteArrayList<>();
    CountDownLatch never = new CountDownLatch(1);
    try (Measurements measurements =
        new Measurements(1, Duration.ofMillis(300), Clock.systemUTC(), done::add)) {
      measurements.take(
          KEY,
          () -> {
            hold(never);
            return PASSED;
          });

      await().atMost(Duration.ofSeconds(5)).until(() -> done.contains(KEY));
      assertThat(measurements.take(KEY, () -> PASSED))
          .hasValueSatisfying(
              v -> {
                assertThat(v.outcome()).isEqualTo(AnalysisVerdict.Outcome.INCONCLUSIVE);
                assertThat(v.message())
                    .isEqualTo("metrics unavailable: the measurement took longer than 300 ms");
              });
    }
  }

  private static void hold(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
