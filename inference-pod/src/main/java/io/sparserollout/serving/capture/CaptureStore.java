package io.sparserollout.serving.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The captured samples of one model on the store, shared by all its serving pods: an hour folder
 * per clock hour with a file per pod, and a ledger of counts that every pod reads and writes under
 * one file lock, so the limits hold for the pods together. A ledger that is missing or unreadable
 * is counted again from the files, so deleting it never lets capture past its limits.
 */
public final class CaptureStore {
  private static final Logger LOG = Logger.getLogger(CaptureStore.class);
  static final String LEDGER = "ledger.json";
  static final String LOCK = ".lock";
  private static final java.time.Duration LOCK_WAIT = java.time.Duration.ofSeconds(10);
  // File locks belong to the process: pods in one JVM (tests) take turns here first.
  private static final ReentrantLock IN_PROCESS = new ReentrantLock();
  private final Path dir;
  private final String file;
  private final ObjectMapper json;

  /**
   * @param pod this pod's name: its samples go to {@code <hour>/<pod>.jsonl}
   */
  public CaptureStore(Path dir, String pod, ObjectMapper json) {
    this.dir = dir;
    this.file = pod.replaceAll("[^A-Za-z0-9._-]", "_") + ".jsonl";
    this.json = json;
  }

  /**
   * Keeps as many of the samples as the limits leave room for, and deletes expired hours.
   *
   * @return how many were kept
   */
  public int add(Instant now, List<byte[]> samples, CaptureLimits limits) throws IOException {
    return locked(
        () -> {
          CaptureLedger read = read();
          CaptureLedger ledger = purge(read, now, limits);
          int room = (int) ledger.room(now, samples.size(), limits);
          if (room == 0) {
            writeIfChanged(read, ledger);
            return 0;
          }
          // Counted before written: a pod stopped in between leaves the ledger high, never low.
          write(ledger.plus(now, room));
          try {
            append(now, samples.subList(0, room));
          } catch (IOException e) {
            // Nothing kept (a full volume, say): the rows must not use up the limits.
            write(ledger);
            throw e;
          }
          return room;
        });
  }

  /** Deletes the hours past retention. */
  public void purge(Instant now, CaptureLimits limits) throws IOException {
    locked(
        () -> {
          CaptureLedger read = read();
          writeIfChanged(read, purge(read, now, limits));
          return 0;
        });
  }

  /** The ledger as it stands, counted again from the files where it is missing or unreadable. */
  public CaptureLedger ledger() throws IOException {
    return locked(this::read);
  }

  private CaptureLedger purge(CaptureLedger ledger, Instant now, CaptureLimits limits)
      throws IOException {
    List<String> hours = new ArrayList<>(ledger.hours().keySet());
    hours.addAll(hourFolders());
    List<String> expired = CaptureLedger.expired(hours, now, limits.retention());
    for (String hour : expired) {
      deleteTree(dir.resolve(hour));
    }
    return ledger.without(expired);
  }

  private void append(Instant now, List<byte[]> samples) throws IOException {
    Path hour = Files.createDirectories(dir.resolve(CaptureLedger.hour(now)));
    int size = samples.stream().mapToInt(s -> s.length).sum();
    byte[] all = new byte[size];
    int at = 0;
    for (byte[] sample : samples) {
      System.arraycopy(sample, 0, all, at, sample.length);
      at += sample.length;
    }
    // One write for the lot: a pod killed mid-way leaves at most one torn last line.
    try (FileChannel out =
        FileChannel.open(
            hour.resolve(file),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(all);
      if (out.size() > 0) {
        // A line torn by this pod's last container stays one bad line, not joined to this one.
        java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
        out.read(last, out.size() - 1);
        if (last.get(0) != '\n') {
          bytes = java.nio.ByteBuffer.allocate(all.length + 1).put((byte) '\n').put(all).flip();
        }
      }
      out.position(out.size());
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    }
  }

  private CaptureLedger read() throws IOException {
    Path ledger = dir.resolve(LEDGER);
    try {
      CaptureLedger read = json.readValue(ledger.toFile(), CaptureLedger.class);
      if (!read.valid()) {
        throw new IOException("it holds entries that are not an hour and a count");
      }
      return read;
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      return recount();
    } catch (IOException | RuntimeException e) {
      LOG.warnf("the capture ledger %s is unreadable (%s): counting the samples again", ledger, e);
      return recount();
    }
  }

  private CaptureLedger recount() throws IOException {
    TreeMap<String, Long> hours = new TreeMap<>();
    for (String hour : hourFolders()) {
      long lines = 0;
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir.resolve(hour), "*.jsonl")) {
        for (Path f : files) {
          lines += lines(f);
        }
      }
      hours.put(hour, lines);
    }
    return new CaptureLedger(hours);
  }

  private static long lines(Path file) throws IOException {
    long lines = 0;
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            lines++;
          }
        }
      }
    }
    return lines;
  }

  private List<String> hourFolders() throws IOException {
    List<String> hours = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (CaptureLedger.HOUR_NAME.matcher(name).matches() && Files.isDirectory(entry)) {
          hours.add(name);
        }
      }
    }
    return hours;
  }

  private void writeIfChanged(CaptureLedger before, CaptureLedger after) throws IOException {
    if (!after.equals(before) || !Files.exists(dir.resolve(LEDGER))) {
      write(after);
    }
  }

  private void write(CaptureLedger ledger) throws IOException {
    Path next = dir.resolve(LEDGER + ".next");
    json.writeValue(next.toFile(), ledger);
    Files.move(
        next,
        dir.resolve(LEDGER),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private interface Locked<T> {
    T run() throws IOException;
  }

  private <T> T locked(Locked<T> work) throws IOException {
    IN_PROCESS.lock();
    try (FileChannel channel =
            FileChannel.open(
                dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lock(channel)) {
      return work.run();
    } finally {
      IN_PROCESS.unlock();
    }
  }

  /** The folder's lock, waited for at most LOCK_WAIT: a holder lost on a network volume. */
  private static FileLock lock(FileChannel channel) throws IOException {
    long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
    while (true) {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return lock;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the capture folder stayed locked for " + LOCK_WAIT);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for the capture folder's lock", e);
      }
    }
  }
}
