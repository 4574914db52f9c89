package io.sparserollout.sparsify.store;

import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

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
  private static final int MAX_ERROR_CHARS = 600;
  // The credential chain's account of each source it tried is long but is the useful part.
  private static final int MAX_CREDENTIALS_ERROR_CHARS = 1500;
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
    return create(System.getenv(), podCredentials());
  }

  /**
   * Keys from the environment (with a session token), IRSA's web-identity token, EKS Pod Identity
   * or a profile file: never the node's instance role, which a pod should not borrow.
   */
  static AwsCredentialsProvider podCredentials() {
    return AwsCredentialsProviderChain.builder()
        .credentialsProviders(
            EnvironmentVariableCredentialsProvider.create(),
            WebIdentityTokenFileCredentialsProvider.create(),
            ContainerCredentialsProvider.builder().build(),
            ProfileCredentialsProvider.create())
        .reuseLastProviderEnabled(true)
        .build();
  }

  static S3Store create(Map<String, String> env, AwsCredentialsProvider credentials) {
    String endpoint = blankToNull(env.get("SPARSIFY_S3_ENDPOINT"));
    // The SDK would also read these; they get the same https rule.
    for (String other : new String[] {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
      String value = blankToNull(env.get(other));
      if (value != null) {
        requireHttps(value, env);
      }
    }
    if (endpoint != null) {
      requireHttps(endpoint, env);
    }
    String region = blankToNull(env.get("AWS_REGION"));
    var builder =
        S3Client.builder()
            .region(Region.of(region == null ? "us-east-1" : region))
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

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }

  private static void requireHttps(String endpoint, Map<String, String> env) {
    URI uri;
    try {
      uri = new URI(endpoint);
    } catch (java.net.URISyntaxException e) {
      throw new SparsifyException(
          "the S3 endpoint " + endpoint + " is not a URL: " + e.getReason());
    }
    boolean http = "http".equals(uri.getScheme());
    if ((!http && !"https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new SparsifyException("the S3 endpoint " + endpoint + " is not an http(s) URL");
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

  public void download(String bucket, String key, Path target) {
    String where = "cannot read s3://" + bucket + "/" + key;
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      Path partial = target.resolveSibling(target.getFileName() + ".partial");
      Files.deleteIfExists(partial);
      client.getObject(r -> r.bucket(bucket).key(key), ResponseTransformer.toFile(partial));
      Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | java.io.UncheckedIOException e) {
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
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new SparsifyException(where + ": " + e.getMessage(), e);
    } catch (SdkException e) {
      throw failure(where, e);
    }
  }

  /**
   * Whether the object exists. A 404 is no, and so is a 403: without s3:ListBucket S3 answers a
   * missing key with 403, while an object that is there and readable answers 200.
   */
  public boolean exists(String bucket, String key) {
    try {
      client.headObject(r -> r.bucket(bucket).key(key));
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() == 404 || e.statusCode() == 403) {
        return false;
      }
      throw failure("cannot read s3://" + bucket + "/" + key, e);
    } catch (SdkException e) {
      throw failure("cannot read s3://" + bucket + "/" + key, e);
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
  private void uploadInParts(Path source, String bucket, String key, long size, long partSize)
      throws IOException {
    // On AWS every part carries a CRC32 that the completion repeats; S3-compatible stores get none.
    ChecksumAlgorithm checksum = endpoint == null ? ChecksumAlgorithm.CRC32 : null;
    String uploadId =
        client
            .createMultipartUpload(r -> r.bucket(bucket).key(key).checksumAlgorithm(checksum))
            .uploadId();
    try {
      List<CompletedPart> parts = new ArrayList<>();
      for (int number = 1; (long) (number - 1) * partSize < size; number++) {
        long offset = (number - 1) * partSize;
        long length = Math.min(partSize, size - offset);
        int partNumber = number;
        FileSlice slice = new FileSlice(source, offset, length);
        try {
          UploadPartResponse part =
              client.uploadPart(
                  r ->
                      r.bucket(bucket)
                          .key(key)
                          .uploadId(uploadId)
                          .partNumber(partNumber)
                          .contentLength(length)
                          .checksumAlgorithm(checksum),
                  RequestBody.fromContentProvider(slice, length, "application/octet-stream"));
          parts.add(
              CompletedPart.builder()
                  .partNumber(partNumber)
                  .eTag(part.eTag())
                  .checksumCRC32(part.checksumCRC32())
                  .build());
        } finally {
          slice.close();
        }
      }
      client.completeMultipartUpload(
          r -> r.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    } catch (RuntimeException | IOException e) {
      try {
        client.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException abortFailed) {
        e.addSuppressed(abortFailed);
      }
      throw e;
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
        && String.valueOf(e.getMessage()).startsWith("Unable to load credentials")) {
      // The chain's own account of each source follows the hint, cut.
      detail =
          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with"
              + " AWS_SESSION_TOKEN for temporary ones), or run with a web identity (AWS_ROLE_ARN and"
              + " AWS_WEB_IDENTITY_TOKEN_FILE) or pod identity; "
              + sources(e.getMessage());
    } else if (e instanceof SdkClientException) {
      detail =
          "request to the S3 endpoint "
              + (endpoint == null ? "(AWS)" : endpoint)
              + " failed: "
              + e.getMessage();
    } else {
      detail = String.valueOf(e.getMessage());
    }
    int max =
        detail.startsWith("no S3 credentials") ? MAX_CREDENTIALS_ERROR_CHARS : MAX_ERROR_CHARS;
    if (detail.length() > max) {
      detail = detail.substring(0, max) + "…";
    }
    return new SparsifyException(where + ": " + detail, e);
  }

  /** "[Provider(): why, ...]" from the chain's message, without its long preamble. */
  private static String sources(String chainMessage) {
    int list = chainMessage.indexOf(" : [");
    return list < 0 ? chainMessage : chainMessage.substring(list + 3);
  }

  @Override
  public void close() {
    client.close();
  }
}
