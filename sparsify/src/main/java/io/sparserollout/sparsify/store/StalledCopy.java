package io.sparserollout.sparsify.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies a download to a file and gives up when no byte arrives for a while: the JDK client times
 * out a response's headers, never a body that stops flowing.
 */
final class StalledCopy {
  private StalledCopy() {}

  static void copy(InputStream body, Path target, Duration stallLimit) throws IOException {
    AtomicLong lastProgress = new AtomicLong(System.nanoTime());
    AtomicBoolean stalled = new AtomicBoolean();
    ScheduledExecutorService watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "download-watchdog");
              thread.setDaemon(true);
              return thread;
            });
    long checkMillis = Math.max(10, stallLimit.toMillis() / 4);
    watchdog.scheduleAtFixedRate(
        () -> {
          if (System.nanoTime() - lastProgress.get() > stallLimit.toNanos()) {
            stalled.set(true);
            try {
              body.close();
            } catch (IOException ignored) {
              // The reader sees the closed stream and reports the stall.
            }
          }
        },
        checkMillis,
        checkMillis,
        TimeUnit.MILLISECONDS);
    try (OutputStream out = Files.newOutputStream(target)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = body.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
        lastProgress.set(System.nanoTime());
      }
    } catch (IOException e) {
      if (stalled.get()) {
        throw new IOException("no data for " + stallLimit.toSeconds() + " s", e);
      }
      throw e;
    } finally {
      watchdog.shutdownNow();
    }
    if (stalled.get()) {
      throw new IOException("no data for " + stallLimit.toSeconds() + " s");
    }
  }
}
