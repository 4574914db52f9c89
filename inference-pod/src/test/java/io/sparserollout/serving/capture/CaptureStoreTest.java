package io.sparserollout.serving.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptureStoreTest {
  private static final Instant T = Instant.parse("2026-12-06T06:10:00Z");
  private final ObjectMapper json = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void podsWritingAtOnceStayWithinTheLimitsTogether() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 50, 1000, Duration.ofHours(24));
    ExecutorService pods = Executors.newFixedThreadPool(4);
    List<Future<Integer>> kept = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      CaptureStore store = new CaptureStore(dir, "pod-" + p, json);
      for (int i = 0; i < 10; i++) {
        kept.add(pods.submit(() -> store.add(T, samples(3), limits)));
      }
    }
    int total = 0;
    for (Future<Integer> f : kept) {
      total += f.get();
    }
    pods.shutdown();

    assertThat(total).isEqualTo(50);
    assertThat(lines(dir.resolve("2026-12-06T06"))).isEqualTo(50);
    assertThat(new CaptureStore(dir, "pod-0", json).ledger().total()).isEqualTo(50);
  }

  @Test
  void aDeletedOrBrokenLedgerIsCountedAgainFromTheSamples() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 10, Duration.ofHours(24));
    CaptureStore store = new CaptureStore(dir, "pod-a", json);
    assertThat(store.add(T, samples(7), limits)).isEqualTo(7);

    Files.delete(dir.resolve(CaptureStore.LEDGER));
    assertThat(store.add(T, samples(7), limits)).as("10 in all").isEqualTo(3);

    Files.writeString(dir.resolve(CaptureStore.LEDGER), "{not json");
    assertThat(store.add(T, samples(1), limits)).isZero();
    assertThat(lines(dir)).isEqualTo(10);
  }

  @Test
  void hoursPastRetentionAreDeletedAndFreeTheirRoom() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 5, Duration.ofHours(2));
    CaptureStore store = new CaptureStore(dir, "pod-a", json);
    assertThat(store.add(T, samples(5), limits)).isEqualTo(5);
    assertThat(store.add(T.plus(Duration.ofHours(2)), samples(1), limits)).isZero();

    // 06:xx ended at 07:00; two hours later it goes.
    Instant later = Instant.parse("2026-12-06T09:00:00Z");
    store.purge(later, limits);
    assertThat(dir.resolve("2026-12-06T06")).doesNotExist();
    assertThat(store.ledger().total()).isZero();
    assertThat(store.add(later, samples(2), limits)).isEqualTo(2);
    assertThat(dir.resolve("2026-12-06T09/pod-a.jsonl")).exists();
  }

  @Test
  void aPodNameCannotLeaveTheFolder() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 100, Duration.ofHours(2));
    new CaptureStore(dir, "../../x", json).add(T, samples(1), limits);

    try (Stream<Path> files = Files.list(dir.resolve("2026-12-06T06"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly(".._.._x.jsonl");
    }
  }

  @Test
  void rowsThatCouldNotBeWrittenDoNotUseUpTheLimits() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 5, Duration.ofHours(2));
    CaptureStore store = new CaptureStore(dir, "pod-a", json);
    // The hour's folder cannot be made: a file stands in its place.
    Files.writeString(dir.resolve("2026-12-06T06"), "in the way");

    assertThatThrownBy(() -> store.add(T, samples(5), limits))
        .isInstanceOf(java.io.IOException.class);
    assertThat(store.ledger().total()).isZero();

    Files.delete(dir.resolve("2026-12-06T06"));
    assertThat(store.add(T, samples(5), limits)).isEqualTo(5);
  }

  @Test
  void aLedgerWithEntriesThatAreNotHoursIsCountedAgain() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 10, Duration.ofHours(24));
    CaptureStore store = new CaptureStore(dir, "pod-a", json);
    assertThat(store.add(T, samples(4), limits)).isEqualTo(4);
    Files.writeString(dir.resolve(CaptureStore.LEDGER), "{\"hours\":{\"../x\":-3}}");

    assertThat(store.ledger().total()).isEqualTo(4);
    assertThat(store.add(T, samples(10), limits)).isEqualTo(6);
  }

  @Test
  void aLineTornByAStoppedContainerIsNotJoinedToTheNext() throws Exception {
    CaptureLimits limits = new CaptureLimits(true, 1, 100, 100, Duration.ofHours(2));
    Path file = Files.createDirectories(dir.resolve("2026-12-06T06")).resolve("pod-a.jsonl");
    Files.writeString(file, "{\"inputs\":[{\"na");

    new CaptureStore(dir, "pod-a", json).add(T, samples(1), limits);

    assertThat(Files.readAllLines(file)).containsExactly("{\"inputs\":[{\"na", "{\"inputs\":[]}");
  }

  private static List<byte[]> samples(int n) {
    List<byte[]> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      samples.add(("{\"inputs\":[]}\n").getBytes(StandardCharsets.UTF_8));
    }
    return samples;
  }

  private static long lines(Path root) throws Exception {
    try (Stream<Path> files = Files.walk(root)) {
      long n = 0;
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
        n += Files.readAllLines(f).size();
      }
      return n;
    }
  }
}
