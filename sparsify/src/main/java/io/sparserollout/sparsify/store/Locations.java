package io.sparserollout.sparsify.store;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.Sha256;
import io.sparserollout.stage.StoreUri;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Command-line locations: local paths as they are; {@code s3://bucket/key} and {@code https://}
 * inputs fetched to a scratch directory; {@code s3://} outputs written locally, then uploaded by
 * {@link #publish()}. One instance per command run.
 */
public final class Locations {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration STALL_LIMIT = Duration.ofSeconds(60);
  private final List<Runnable> uploads = new ArrayList<>();
  private Path scratch;
  private S3Store s3;

  /** A readable local file for an input location. */
  public Path input(String location) {
    if (location == null) {
      return null;
    }
    if (location.startsWith("s3://")) {
      String[] bk = bucketAndKey(location);
      Path local = inScratch(scratch().resolve("in").resolve(bk[0]).resolve(bk[1]), location);
      s3().download(bk[0], bk[1], local);
      // A model over 2 GB keeps its weights beside it: they travel with it.
      String data = bk[1] + Sha256.EXTERNAL_DATA_SUFFIX;
      if (bk[1].endsWith(".onnx") && s3().exists(bk[0], data)) {
        s3().download(
                bk[0],
                data,
                local.resolveSibling(local.getFileName() + Sha256.EXTERNAL_DATA_SUFFIX));
      }
      return local;
    }
    if (location.startsWith("https://") || location.startsWith("http://")) {
      return fetch(location);
    }
    return Path.of(location);
  }

  /** A writable local path for an output location (a file or a directory). */
  public Path output(String location) {
    if (location == null) {
      return null;
    }
    if (!location.startsWith("s3://")) {
      return Path.of(location);
    }
    String[] bk = bucketAndKey(location);
    Path local = inScratch(scratch().resolve("out").resolve(bk[0]).resolve(bk[1]), location);
    uploads.add(() -> upload(local, bk[0], bk[1]));
    return local;
  }

  /** Uploads every s3:// output written so far. */
  public void publish() {
    uploads.forEach(Runnable::run);
    uploads.clear();
  }

  private void upload(Path local, String bucket, String key) {
    if (Files.isDirectory(local)) {
      try (Stream<Path> files = Files.walk(local)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          s3().upload(file, bucket, key.replaceAll("/+$", "") + "/" + local.relativize(file));
        }
      } catch (IOException e) {
        throw new SparsifyException("cannot read " + local + ": " + e.getMessage(), e);
      }
    } else if (Files.exists(local)) {
      s3().upload(local, bucket, key);
      Path data = local.resolveSibling(local.getFileName() + Sha256.EXTERNAL_DATA_SUFFIX);
      if (Files.isRegularFile(data)) {
        s3().upload(data, bucket, key + Sha256.EXTERNAL_DATA_SUFFIX);
      }
    }
  }

  private Path fetch(String url) {
    try {
      Path local =
          scratch()
              .resolve("in")
              .resolve(
                  Integer.toHexString(url.hashCode())
                      + "-"
                      + Path.of(URI.create(url).getPath()).getFileName());
      HttpResponse<InputStream> response =
          HttpClient.newBuilder()
              .followRedirects(HttpClient.Redirect.NORMAL)
              .connectTimeout(CONNECT_TIMEOUT)
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(STALL_LIMIT).build(),
                  HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        if (response.statusCode() != 200) {
          throw new SparsifyException("cannot fetch " + url + ": HTTP " + response.statusCode());
        }
        Files.createDirectories(local.getParent());
        StalledCopy.copy(body, local, STALL_LIMIT);
      }
      return local;
    } catch (IOException e) {
      throw new SparsifyException("cannot fetch " + url + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SparsifyException("interrupted fetching " + url, e);
    }
  }

  private static String[] bucketAndKey(String location) {
    String rest = location.substring("s3://".length());
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1) {
      throw new SparsifyException(location + " is not s3://bucket/key");
    }
    StoreUri.problem(location)
        .ifPresent(
            problem -> {
              throw new SparsifyException(location + ": " + problem);
            });
    return new String[] {rest.substring(0, slash), rest.substring(slash + 1)};
  }

  /** Whatever a key holds, its local copy stays in the scratch directory. */
  private Path inScratch(Path local, String location) {
    if (!local.normalize().startsWith(scratch())) {
      throw new SparsifyException(location + " would be written outside the scratch directory");
    }
    return local;
  }

  private Path scratch() {
    if (scratch == null) {
      try {
        scratch = Files.createTempDirectory("sparsify-");
      } catch (IOException e) {
        throw new SparsifyException("cannot create a scratch directory: " + e.getMessage(), e);
      }
    }
    return scratch;
  }

  private S3Store s3() {
    if (s3 == null) {
      s3 = S3Store.fromEnvironment();
    }
    return s3;
  }
}
