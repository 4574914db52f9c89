package io.sparserollout.stage;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one rule for the pvc:// and s3:// locations a spec or a command line names: each must stay
 * inside its claim or bucket. A pvc:// path becomes a path under the claim's mount, and an s3://
 * key becomes a path in a scratch directory (and in the request path, which S3-compatible servers
 * normalise), so a "." or ".." segment would reach outside either.
 */
public final class StoreUri {
  private StoreUri() {}

  /** A DNS-1123 subdomain: the API server's rule for a PersistentVolumeClaim's name. */
  private static final Pattern CLAIM =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** S3's rule for bucket names (lower-case letters, digits, '.', '-'; 3 to 63 characters). */
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  /**
   * What is wrong with a location, or empty when it is usable (any other scheme is not checked).
   */
  public static Optional<String> problem(String uri) {
    if (uri == null) {
      return Optional.empty();
    }
    if (uri.startsWith("pvc://")) {
      String[] parts = split(uri.substring("pvc://".length()));
      if (parts[0].length() > 253 || !CLAIM.matcher(parts[0]).matches()) {
        return Optional.of(
            "the claim \"" + parts[0] + "\" is not a PersistentVolumeClaim name (DNS-1123)");
      }
      return traversal(parts[1]);
    }
    if (uri.startsWith("s3://")) {
      String[] parts = split(uri.substring("s3://".length()));
      if (!BUCKET.matcher(parts[0]).matches() || parts[0].contains("..")) {
        return Optional.of("the bucket \"" + parts[0] + "\" is not an S3 bucket name");
      }
      return traversal(parts[1]);
    }
    return Optional.empty();
  }

  private static String[] split(String rest) {
    int slash = rest.indexOf('/');
    return slash < 0
        ? new String[] {rest, ""}
        : new String[] {rest.substring(0, slash), rest.substring(slash + 1)};
  }

  private static Optional<String> traversal(String path) {
    // An empty segment (a leading "/" or "//") would make the key an absolute local path.
    if (path.startsWith("/") || path.contains("//")) {
      return Optional.of("an empty path segment (\"//\" or a leading \"/\") is not allowed");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return Optional.of("a \"" + segment + "\" segment would leave the claim or bucket");
      }
    }
    if (path.indexOf('\0') >= 0) {
      return Optional.of("a NUL character is not allowed in a path");
    }
    return Optional.empty();
  }
}
