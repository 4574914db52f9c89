package io.sparserollout.stage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The digest that ties an artifact to the stage that wrote it: the stage reports it, status records
 * it, and whoever reads the artifact next (the next stage, the serving pod) refuses a file whose
 * digest differs, so nothing replaces a gated model after the gate.
 */
public final class Sha256 {
  private Sha256() {}

  /** The suffix of the external-data file sparsify writes beside a model over 2 GB. */
  public static final String EXTERNAL_DATA_SUFFIX = ".data";

  /**
   * Lower-case hex SHA-256 of the file's bytes; for a model with its weights in a {@code NAME.data}
   * file beside it, of both files' digests, so replacing the weights is caught too.
   */
  public static String of(Path file) {
    String own = bytes(file);
    Path data = file.resolveSibling(file.getFileName() + EXTERNAL_DATA_SUFFIX);
    if (!Files.isRegularFile(data)) {
      return own;
    }
    try {
      MessageDigest both = MessageDigest.getInstance("SHA-256");
      both.update((own + "\n" + bytes(data)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(both.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String bytes(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Null when the file's digest is {@code expected} (or nothing is expected), else the message that
   * refuses it.
   */
  public static String mismatch(Path file, String expected) {
    if (expected == null) {
      return null;
    }
    String actual = of(file);
    return actual.equalsIgnoreCase(expected)
        ? null
        : file
            + " is not the artifact recorded for it: sha256 "
            + actual
            + ", expected "
            + expected
            + " (was it replaced after its stage?)";
  }
}
