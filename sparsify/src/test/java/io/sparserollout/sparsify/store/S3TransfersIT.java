package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * S3 as users run it, on a real S3 API server (S3Proxy): objects past the single-PUT limit, a
 * server that refuses the first attempts, temporary credentials from a token file, and plain http
 * refused unless allowed.
 */
class S3TransfersIT {
  private static final String OBJECT = "s3://models/data/sentences.txt";
  private static Path dir;
  private static S3ProxyServer s3;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("s3transfers");
    s3 = S3ProxyServer.start(dir, "models");
    Path sentences = Files.writeString(dir.resolve("s.txt"), "Two of every four weights stay.\n");
    s3.client().upload(sentences, "models", "data/sentences.txt");
  }

  @AfterAll
  static void stop() throws Exception {
    if (s3 != null) {
      s3.close();
    }
    // S3Proxy's copy of the 5 GiB object and the parts are several GiB: none of it stays.
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  @Test
  void anObjectPastTheSinglePutLimitGoesUpInParts() throws Exception {
    long fiveGiB = 5L << 30;
    // S3Proxy stores the parts, then the joined object: about twice the size at its peak.
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.getFileStore(dir).getUsableSpace() > 3 * fiveGiB, "needs 15 GiB free beside " + dir);
    Path big = dir.resolve("big.onnx");
    try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
      // Sparse: only the bytes written below take disk space here.
      file.setLength(fiveGiB + 3);
      file.seek(0);
      file.write(new byte[] {1, 2, 3});
      file.seek(fiveGiB);
      file.write(new byte[] {7, 8, 9});
    }
    try (S3Store store = s3.client()) {
      store.upload(big, "models", "big/model.onnx");
      assertThat(store.size("models", "big/model.onnx")).isEqualTo(fiveGiB + 3);
    } finally {
      Files.delete(big);
    }
  }

  @Test
  void partsReassembleToTheSameBytes() throws Exception {
    byte[] data = new byte[(int) (S3Store.MIN_PART_SIZE * 2 + 12345)];
    new Random(7).nextBytes(data);
    Path source = Files.write(dir.resolve("three-parts.bin"), data);
    Path back = dir.resolve("three-parts.back");
    try (S3Store store = s3.client()) {
      store.upload(source, "models", "parts/three.bin");
      store.download("models", "parts/three.bin", back);
    }
    assertThat(sha256(back)).isEqualTo(sha256(source));
  }

  @Test
  void aModelsExternalWeightsTravelWithIt() throws Exception {
    Path model = Files.writeString(dir.resolve("ext.onnx"), "graph");
    Files.writeString(dir.resolve("ext.onnx.data"), "weights");
    try (S3Store store = s3.client()) {
      store.upload(model, "models", "ext/model.onnx");
      store.upload(dir.resolve("ext.onnx.data"), "models", "ext/model.onnx.data");
    }
    Path out = dir.resolve("fetched/model.onnx");

    var result = sparsify(keys(s3.endpoint()), "fetch", "s3://models/ext/model.onnx", out);

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out).hasContent("graph");
    assertThat(dir.resolve("fetched/model.onnx.data")).hasContent("weights");
  }

  @Test
  void aServerThatRefusesTheFirstAttemptsIsRetried() throws Exception {
    try (FlakyProxy flaky = new FlakyProxy(s3.port(), 2)) {
      var result = sparsify(keys(flaky.endpoint()), "fetch", OBJECT, dir.resolve("retried.txt"));

      assertThat(result.exitCode()).as(result.stderr()).isZero();
      assertThat(flaky.refused()).isEqualTo(2);
      assertThat(dir.resolve("retried.txt")).hasContent("Two of every four weights stay.");
    }
  }

  @Test
  void aServerThatKeepsRefusingIsReportedWithItsCodeAndMessageOnly() throws Exception {
    try (FlakyProxy flaky = new FlakyProxy(s3.port(), 100)) {
      var result = sparsify(keys(flaky.endpoint()), "fetch", OBJECT, dir.resolve("never.txt"));

      assertThat(result.exitCode()).isEqualTo(2);
      assertThat(flaky.refused()).isEqualTo(5);
      assertThat(result.stderr())
          .contains(
              "cannot read " + OBJECT + ": HTTP 503 SlowDown: Please reduce your request rate.")
          .doesNotContain("HostId")
          .doesNotContain("xxxxxxxxxx");
    }
  }

  @Test
  void podIdentityCredentialsComeFromTheTokenFile() throws Exception {
    try (CredentialEndpoints aws = new CredentialEndpoints("pod-token-1")) {
      Path token = Files.writeString(dir.resolve("eks-pod-identity-token"), "pod-token-1");
      Map<String, String> env = http(s3.endpoint());
      env.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.podIdentityUri());
      env.put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.toString());

      var result = sparsify(env, "fetch", OBJECT, dir.resolve("pod-identity.txt"));

      assertThat(result.exitCode()).as(result.stderr()).isZero();
      assertThat(aws.tokensSeen).contains("pod-token-1");
    }
  }

  @Test
  void webIdentityCredentialsComeFromStsWithTheTokenFile() throws Exception {
    try (CredentialEndpoints aws = new CredentialEndpoints("irsa-token-1")) {
      Path token = Files.writeString(dir.resolve("irsa-token"), "irsa-token-1");
      Map<String, String> env = http(s3.endpoint());
      env.put("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/sparsify");
      env.put("AWS_WEB_IDENTITY_TOKEN_FILE", token.toString());
      env.put("AWS_ENDPOINT_URL_STS", aws.stsEndpoint());

      var result = sparsify(env, "fetch", OBJECT, dir.resolve("irsa.txt"));

      assertThat(result.exitCode()).as(result.stderr()).isZero();
      assertThat(aws.tokensSeen).contains("irsa-token-1");
    }
  }

  @Test
  void aTokenTheCredentialEndpointRefusesIsNamedAsMissingCredentials() throws Exception {
    try (CredentialEndpoints aws = new CredentialEndpoints("the-right-token")) {
      Path token = Files.writeString(dir.resolve("stale-token"), "a-stale-token");
      Map<String, String> env = http(s3.endpoint());
      env.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.podIdentityUri());
      env.put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.toString());

      var result = sparsify(env, "fetch", OBJECT, dir.resolve("refused.txt"));

      assertThat(result.exitCode()).isEqualTo(2);
      assertThat(result.stderr())
          .contains("no S3 credentials")
          .contains("ContainerCredentialsProvider()");
    }
  }

  @Test
  void plainHttpIsRefusedUnlessAllowed() throws Exception {
    Map<String, String> env = keys(s3.endpoint());
    env.remove("SPARSIFY_S3_ALLOW_HTTP");

    var result = sparsify(env, "fetch", OBJECT, dir.resolve("plain.txt"));

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("is plain http").contains("allowInsecureHttp");
    assertThat(dir.resolve("plain.txt")).doesNotExist();
  }

  private static Map<String, String> http(String endpoint) {
    return new HashMap<>(
        Map.of(
            "SPARSIFY_S3_ENDPOINT",
            endpoint,
            "SPARSIFY_S3_ALLOW_HTTP",
            "true",
            // As the EKS webhooks set it; the SDK reads AWS_ENDPOINT_URL_STS only with a region.
            "AWS_REGION",
            "us-east-1"));
  }

  private static Map<String, String> keys(String endpoint) {
    Map<String, String> env = http(endpoint);
    env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
    env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
    return env;
  }

  private static SparsifyProcess.Result sparsify(
      Map<String, String> env, String command, String from, Path to) throws Exception {
    return SparsifyProcess.run(dir, env, command, "--from", from, "--out", to.toString());
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
