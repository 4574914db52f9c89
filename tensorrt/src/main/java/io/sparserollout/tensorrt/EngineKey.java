package io.sparserollout.tensorrt;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * What an engine artifact is valid for: a plan runs only with the TensorRT version that built it
 * and, by default, on the same GPU product. Serving compares its own key with the artifact's.
 */
public record EngineKey(
    String modelDigest, String backend, String precision, String runtimeVersion, String device) {

  /** The key lies beside its plan, named as the plan with this added. */
  public static final String FILE_SUFFIX = ".key.json";

  /** Where the key of {@code plan} lies. */
  public static java.nio.file.Path fileFor(java.nio.file.Path plan) {
    return plan.resolveSibling(plan.getFileName() + FILE_SUFFIX);
  }

  /** One line, usable as a file or directory name. */
  public String id() {
    return String.join(
        "_",
        modelDigest.substring(0, Math.min(19, modelDigest.length())).replace(':', '-'),
        backend,
        precision,
        runtimeVersion,
        device.replaceAll("[^A-Za-z0-9.-]+", "-").toLowerCase(Locale.ROOT));
  }

  /** Why an artifact with this key cannot run where {@code here} was taken, or null if it can. */
  public String mismatch(EngineKey here) {
    if (!runtimeVersion.equals(here.runtimeVersion)) {
      return "the engine was built with "
          + backend
          + " "
          + runtimeVersion
          + " and this node runs "
          + here.runtimeVersion
          + "; rebuild it (same version for building and serving)";
    }
    if (!device.equals(here.device)) {
      return "the engine was built on "
          + device
          + " and this node has "
          + here.device
          + "; TensorRT plans are tied to the GPU product: rebuild it on the serving product";
    }
    return null;
  }

  public static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return "sha256:" + HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
