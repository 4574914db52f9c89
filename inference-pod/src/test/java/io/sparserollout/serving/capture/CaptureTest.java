package io.sparserollout.serving.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.stage.ServingMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptureTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-06T06:10:00Z"), ZoneOffset.UTC);
  private static final List<Tensor> TWO_ROWS =
      List.of(new Tensor("input_ids", Datatype.INT64, new long[] {2, 2}, new long[] {1, 2, 3, 4}));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<Capture> started = new java.util.ArrayList<>();
  @TempDir Path dir;

  /**
   * Each capture's writer has its first purge done and is stopped before the folder is deleted: a
   * purge still walking it made the deletion fail now and then.
   */
  @org.junit.jupiter.api.AfterEach
  void stopWriters() throws InterruptedException {
    for (Capture capture : started) {
      capture.drain(Duration.ofSeconds(10));
      capture.stop(null);
    }
  }

  @Test
  void onlyTheSampledFractionIsKept() throws Exception {
    Capture drawnAbove = capture(dir, limits(true, 0.3), 0.3);
    drawnAbove.offer(TWO_ROWS);
    assertThat(drawnAbove.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(files(dir)).isEmpty();

    Capture drawnBelow = capture(dir, limits(true, 0.3), 0.29);
    drawnBelow.offer(TWO_ROWS);
    assertThat(drawnBelow.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(Files.readAllLines(dir.resolve("2026-12-06T06/pod-a.jsonl"))).hasSize(2);
    assertThat(registry.counter(ServingMetrics.CAPTURE_SAMPLES).count()).isEqualTo(2);
  }

  /** A pod whose samples all went over the shared limit still exports both series (CaptureIT). */
  @Test
  void everySeriesExistsFromTheStartAtZero() {
    capture(dir, limits(true, 1), 0);
    assertThat(registry.find(ServingMetrics.CAPTURE_SAMPLES).counter()).isNotNull();
    assertThat(registry.find(ServingMetrics.CAPTURE_SAMPLES).counter().count()).isZero();
    assertThat(registry.find(ServingMetrics.CAPTURE_DROPPED).counters())
        .extracting(c -> c.getId().getTag(ServingMetrics.REASON))
        .containsExactlyInAnyOrder(
            Capture.REASON_BUSY, Capture.REASON_LIMIT, Capture.REASON_ERROR, Capture.REASON_SIZE);
  }

  @Test
  void disabledCaptureKeepsNothing() throws Exception {
    Capture off = capture(dir, limits(false, 1), 0);
    off.offer(TWO_ROWS);
    assertThat(off.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(files(dir)).isEmpty();
  }

  @Test
  void aStoreThatCannotBeWrittenCountsErrorsAndNeverThrows() throws Exception {
    Capture broken = capture(dir.resolve("missing"), limits(true, 1), 0);
    broken.offer(TWO_ROWS);
    assertThat(broken.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(
            registry
                .counter(
                    ServingMetrics.CAPTURE_DROPPED, ServingMetrics.REASON, Capture.REASON_ERROR)
                .count())
        .isEqualTo(1);
  }

  @Test
  void samplesPastTheLimitAreCountedAsDropped() throws Exception {
    Capture capture = capture(dir, new CaptureLimits(true, 1, 3, 100, Duration.ofHours(1)), 0);
    capture.offer(TWO_ROWS);
    capture.offer(TWO_ROWS);
    assertThat(capture.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(Files.readAllLines(dir.resolve("2026-12-06T06/pod-a.jsonl"))).hasSize(3);
    assertThat(
            registry
                .counter(
                    ServingMetrics.CAPTURE_DROPPED, ServingMetrics.REASON, Capture.REASON_LIMIT)
                .count())
        .isEqualTo(1);
  }

  @Test
  void aSampleOverAMebibyteIsNotKept() throws Exception {
    Capture capture = capture(dir, limits(true, 1), 0);
    capture.offer(
        List.of(
            new Tensor(
                "text", Datatype.BYTES, new long[] {1}, new String[] {"x".repeat(1 << 20)})));
    assertThat(capture.drain(Duration.ofSeconds(10))).isTrue();
    assertThat(files(dir)).isEmpty();
    assertThat(
            registry
                .counter(ServingMetrics.CAPTURE_DROPPED, ServingMetrics.REASON, Capture.REASON_SIZE)
                .count())
        .isEqualTo(1);
  }

  private Capture capture(Path dir, CaptureLimits limits, double draw) {
    Capture capture =
        new Capture(dir, limits, "pod-a", new ObjectMapper(), registry, CLOCK, () -> draw);
    started.add(capture);
    return capture;
  }

  private static CaptureLimits limits(boolean enabled, double fraction) {
    return new CaptureLimits(enabled, fraction, 100, 100, Duration.ofHours(1));
  }

  private static List<Path> files(Path dir) throws Exception {
    try (Stream<Path> paths = Files.walk(dir)) {
      return paths.filter(p -> p.toString().endsWith(".jsonl")).toList();
    }
  }
}
