package io.sparserollout.sparsify.store;

import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * GET and PUT of S3 objects with AWS Signature Version 4, enough for the pipeline's artifacts and
 * free of an SDK. Path-style addressing on a custom endpoint (MinIO, S3Proxy), virtual-hosted on
 * AWS.
 */
public final class S3Client {
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
  private final String endpoint;
  private final String region;
  private final String accessKey;
  private final String secretKey;
  private final HttpClient http = HttpClient.newHttpClient();

  public S3Client(String endpoint, String region, String accessKey, String secretKey) {
    this.endpoint = endpoint;
    this.region = region;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  /** From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and SPARSIFY_S3_ENDPOINT. */
  public static S3Client fromEnvironment() {
    String access = System.getenv("AWS_ACCESS_KEY_ID");
    String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    if (access == null || secret == null) {
      throw new SparsifyException(
          "s3:// locations need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    String region = System.getenv().getOrDefault("AWS_REGION", "us-east-1");
    return new S3Client(System.getenv("SPARSIFY_S3_ENDPOINT"), region, access, secret);
  }

  public void download(String bucket, String key, Path target) {
    String where = "cannot read s3://" + bucket + "/" + key;
    HttpResponse<InputStream> response =
        send("GET", bucket, key, HttpRequest.BodyPublishers.noBody(), emptyHash());
    try (InputStream body = response.body()) {
      requireOk(response, body, where);
      Files.createDirectories(target.toAbsolutePath().getParent());
      Files.copy(body, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new SparsifyException(where + ": " + e.getMessage(), e);
    }
  }

  public void upload(Path source, String bucket, String key) {
    String where = "cannot write s3://" + bucket + "/" + key;
    try {
      HttpResponse<InputStream> response =
          send("PUT", bucket, key, HttpRequest.BodyPublishers.ofFile(source), sha256(source));
      try (InputStream body = response.body()) {
        requireOk(response, body, where);
      }
    } catch (IOException e) {
      throw new SparsifyException(where + ": " + e.getMessage(), e);
    }
  }

  /** Anything but 200 is reported with the server's own answer (S3 explains in its body). */
  private static void requireOk(HttpResponse<?> response, InputStream body, String where)
      throws IOException {
    if (response.statusCode() != 200) {
      throw new SparsifyException(
          where
              + ": HTTP "
              + response.statusCode()
              + " "
              + new String(body.readAllBytes(), StandardCharsets.UTF_8).strip());
    }
  }

  private HttpResponse<InputStream> send(
      String method,
      String bucket,
      String key,
      HttpRequest.BodyPublisher body,
      String payloadHash) {
    String path = endpoint == null ? "/" + encodePath(key) : "/" + bucket + "/" + encodePath(key);
    URI base =
        URI.create(
            endpoint == null ? "https://" + bucket + ".s3." + region + ".amazonaws.com" : endpoint);
    String host = base.getPort() < 0 ? base.getHost() : base.getHost() + ":" + base.getPort();
    String amzDate = ZonedDateTime.now(ZoneOffset.UTC).format(AMZ_DATE);
    String date = amzDate.substring(0, 8);
    String scope = date + "/" + region + "/s3/aws4_request";
    String canonical =
        method
            + "\n"
            + path
            + "\n\n"
            + "host:"
            + host
            + "\n"
            + "x-amz-content-sha256:"
            + payloadHash
            + "\n"
            + "x-amz-date:"
            + amzDate
            + "\n\n"
            + "host;x-amz-content-sha256;x-amz-date\n"
            + payloadHash;
    String toSign =
        "AWS4-HMAC-SHA256\n"
            + amzDate
            + "\n"
            + scope
            + "\n"
            + hex(digest(canonical.getBytes(StandardCharsets.UTF_8)));
    byte[] key4 = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
    byte[] signingKey = hmac(hmac(hmac(key4, region), "s3"), "aws4_request");
    String signature = hex(hmac(signingKey, toSign));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base.getScheme() + "://" + host + path))
            .method(method, body)
            .header("x-amz-date", amzDate)
            .header("x-amz-content-sha256", payloadHash)
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential="
                    + accessKey
                    + "/"
                    + scope
                    + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
                    + signature)
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot reach the S3 endpoint " + base + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SparsifyException("interrupted talking to S3", e);
    }
  }

  private static String encodePath(String key) {
    StringBuilder out = new StringBuilder();
    for (String segment : key.split("/", -1)) {
      if (out.length() > 0) {
        out.append('/');
      }
      out.append(
          URLEncoder.encode(segment, StandardCharsets.UTF_8)
              .replace("+", "%20")
              .replace("%7E", "~"));
    }
    return out.toString();
  }

  private static String emptyHash() {
    return hex(digest(new byte[0]));
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return hex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] digest(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
