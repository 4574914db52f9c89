package io.sparserollout.sparsify.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import software.amazon.awssdk.http.ContentStreamProvider;

/**
 * One multipart part: {@code length} bytes of a file from {@code offset}, read again from the file
 * for each attempt (signing reads it once, a retry again), the previous stream closed each time.
 */
final class FileSlice implements ContentStreamProvider {
  private final Path file;
  private final long offset;
  private final long length;
  private InputStream current;

  FileSlice(Path file, long offset, long length) {
    this.file = file;
    this.offset = offset;
    this.length = length;
  }

  @Override
  public synchronized InputStream newStream() {
    try {
      if (current != null) {
        current.close();
      }
      FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
      current = new Bounded(Channels.newInputStream(channel), length);
      return current;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Closes the last stream handed out; the SDK closes it too, and twice is harmless. */
  synchronized void close() throws IOException {
    if (current != null) {
      current.close();
    }
  }

  private static final class Bounded extends FilterInputStream {
    private long left;

    Bounded(InputStream in, long length) {
      super(in);
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = super.read();
      left -= b < 0 ? 0 : 1;
      return b;
    }

    @Override
    public int read(byte[] buffer, int from, int count) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = super.read(buffer, from, (int) Math.min(count, left));
      left -= Math.max(n, 0);
      return n;
    }
  }
}
