package io.sparserollout.sparsify.store;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** S3Proxy (a real S3 API server, from Maven Central) as a local process over a directory. */
final class S3ProxyServer implements AutoCloseable {
  static final String ACCESS_KEY = "test-access";
  static final String SECRET_KEY = "test-secret";
  private final Process process;
  private final int port;

  private S3ProxyServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts S3Proxy with one (empty) bucket per name. */
  static S3ProxyServer start(Path dir, String... buckets) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path data = Files.createDirectories(dir.resolve("data"));
    for (String bucket : buckets) {
      Files.createDirectories(data.resolve(bucket));
    }
    Path conf = dir.resolve("s3proxy.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            // Temporary credentials send x-amz-security-token, which S3Proxy cannot check.
            "s3proxy.ignore-unknown-headers=true",
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + data,
            "jclouds.identity=unused",
            "jclouds.credential=unused",
            ""));
    Process process =
        new ProcessBuilder(
                "java", "-jar", System.getProperty("s3proxy.jar"), "--properties", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("s3proxy.log").toFile())
            .start();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "S3Proxy exited: " + Files.readString(dir.resolve("s3proxy.log")));
      }
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return new S3ProxyServer(process, port);
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("S3Proxy did not listen on " + port + " within 60 s");
  }

  int port() {
    return port;
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  S3Store client() {
    return S3Store.create(
        Map.of("SPARSIFY_S3_ENDPOINT", endpoint(), "SPARSIFY_S3_ALLOW_HTTP", "true"),
        StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
