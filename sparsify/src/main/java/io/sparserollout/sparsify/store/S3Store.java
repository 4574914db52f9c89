package io.sparserollout.sparsify.store;

import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads and writes S3 objects with the AWS SDK: multipart above {@link #MIN_PART_SIZE}, retries
 * with back-off, every credential source the SDK knows (environment with session token, web
 * identity token file, container/pod identity, profiles, instance role), and timeouts on connect
 * and on every read.
 */
public final class S3Store implements AutoCloseable {
  /** Parts of this size or larger; S3 allows 10,000 parts, so larger objects get larger parts. */
  public static final long MIN_PART_SIZE = 64L << 20;

  private static final int MAX_PARTS = 10_000;
  private static final int MAX_ERROR_CHARS = 300;
  private final S3Client client;
  private final String endpoint;

  S3Store(S3Client client, String endpoint) {
    this.client = client;
    this.endpoint = endpoint;
  }

  /**
   * From SPARSIFY_S3_ENDPOINT (empty: AWS), SPARSIFY_S3_ALLOW_HTTP, AWS_REGION and the SDK's
   * default credential chain.
   */
  public static S3Store fromEnvironment() {
    return create(System.getenv(), DefaultCredentialsProvider.builder().build());
  }

  static S3Store create(Map<String, String> env, AwsCredentialsProvider credentials) {
    String endpoint = env.get("SPARSIFY_S3_ENDPOINT");
    if (endpoint != null && endpoint.isBlank()) {
      endpoint = null;
    }
    if (endpoint != null) {
      URI uri = URI.create(endpoint);
      boolean http = "http".equals(uri.getScheme());
      if (!http && !"https".equals(uri.getScheme())) {
        throw new SparsifyException("SPARSIFY_S3_ENDPOINT " + endpoint + " is not an http(s) URL");
      }
      if (http && !"true".equals(env.get("SPARSIFY_S3_ALLOW_HTTP"))) {
        throw new SparsifyException(
            "the S3 endpoint "
                + endpoint
                + " is plain http, which exposes credentials and artifacts on the network; use"
                + " https, or allow http explicitly (spec.artifactStore.allowInsecureHttp,"
                + " SPARSIFY_S3_ALLOW_HTTP=true)");
      }
    }
    var builder =
        S3Client.builder()
            .region(Region.of(env.getOrDefault("AWS_REGION", "us-east-1")))
            .credentialsProvider(credentials)
            .httpClientBuilder(
                Apache5HttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(10))
                    .socketTimeout(Duration.ofSeconds(60))
                    .maxConnections(4))
            .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(5)));
    if (endpoint == null) {
      // A bucket in another region than AWS_REGION is followed, not a 301.
      builder.crossRegionAccessEnabled(true);
    } else {
      // S3-compatible stores (S3Proxy, older MinIO and Ceph) refuse the SDK's default flexible
      // checksums with 501; artifacts are verified by their sha256 at each stage anyway.
      builder
          .endpointOverride(URI.create(endpoint))
          .forcePathStyle(true)
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }
    return new S3Store(builder.build(), endpoint);
  }

  public void download(String bucket, String key, Path target) {
    String where = "cannot read s3://" + bucket + "/" + key;
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      Path partial = target.resolveSibling(target.getFileName() + ".partial");
      Files.deleteIfExists(partial);
      client.getObject(r -> r.bucket(bucket).key(key), ResponseTransformer.toFile(partial));
      Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new SparsifyException(where + ": " + e.getMessage(), e);
    } catch (SdkException e) {
      throw failure(where, e);
    }
  }

  public void upload(Path source, String bucket, String key) {
    String where = "cannot write s3://" + bucket + "/" + key;
    try {
      long size = Files.size(source);
      long partSize = partSize(size);
      if (size <= partSize) {
        client.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromFile(source));
      } else {
        uploadInParts(source, bucket, key, size, partSize);
      }
    } catch (IOException e) {
      throw new SparsifyException(where + ": " + e.getMessage(), e);
    } catch (SdkException e) {
      throw failure(where, e);
    }
  }

  /** The object's size in bytes. */
  public long size(String bucket, String key) {
    try {
      return client.headObject(r -> r.bucket(bucket).key(key)).contentLength();
    } catch (SdkException e) {
      throw failure("cannot read s3://" + bucket + "/" + key, e);
    }
  }

  static long partSize(long size) {
    return Math.max(MIN_PART_SIZE, (size + MAX_PARTS - 1) / MAX_PARTS);
  }

  /** Parts stream from the file at their offset; a failed upload is aborted, not left billed. */
  private void uploadInParts(Path source, String bucket, String key, long size, long partSize) {
    String uploadId = client.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId();
    try {
      List<CompletedPart> parts = new ArrayList<>();
      for (int number = 1; (long) (number - 1) * partSize < size; number++) {
        long offset = (number - 1) * partSize;
        long length = Math.min(partSize, size - offset);
        int partNumber = number;
        String etag =
            client
                .uploadPart(
                    r ->
                        r.bucket(bucket)
                            .key(key)
                            .uploadId(uploadId)
                            .partNumber(partNumber)
                            .contentLength(length),
                    RequestBody.fromContentProvider(
                        () -> slice(source, offset, length), length, "application/octet-stream"))
                .eTag();
        parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
      }
      client.completeMultipartUpload(
          r -> r.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    } catch (RuntimeException e) {
      try {
        client.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException abortFailed) {
        e.addSuppressed(abortFailed);
      }
      throw e;
    }
  }

  private static InputStream slice(Path source, long offset, long length) {
    try {
      FileChannel channel = FileChannel.open(source, StandardOpenOption.READ).position(offset);
      return new java.io.FilterInputStream(Channels.newInputStream(channel)) {
        private long left = length;

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
      };
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * S3's own error code and message, never its whole body; a network failure names the endpoint.
   */
  private SparsifyException failure(String where, SdkException e) {
    String detail;
    if (e instanceof S3Exception s3 && s3.awsErrorDetails() != null) {
      var details = s3.awsErrorDetails();
      detail =
          "HTTP "
              + s3.statusCode()
              + " "
              + details.errorCode()
              + (details.errorMessage() == null ? "" : ": " + details.errorMessage());
    } else if (e instanceof SdkClientException
        && String.valueOf(e.getMessage()).contains("credentials")) {
      detail =
          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN"
              + " for temporary ones), or run with a web identity (AWS_ROLE_ARN and"
              + " AWS_WEB_IDENTITY_TOKEN_FILE) or pod identity";
    } else if (e instanceof SdkClientException) {
      detail =
          "cannot reach the S3 endpoint "
              + (endpoint == null ? "(AWS)" : endpoint)
              + ": "
              + e.getMessage();
    } else {
      detail = e.getMessage();
    }
    if (detail.length() > MAX_ERROR_CHARS) {
      detail = detail.substring(0, MAX_ERROR_CHARS) + "…";
    }
    return new SparsifyException(where + ": " + detail, e);
  }

  @Override
  public void close() {
    client.close();
  }
}
