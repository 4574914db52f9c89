package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.TinyModels;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The packaged CLI reading and writing s3:// locations on a real S3 API server (S3Proxy). */
class S3LocationsIT {
  private static Path dir;
  private static S3ProxyServer s3;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("s3it");
    s3 = S3ProxyServer.start(dir, "models");
    Path model = TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("enc.onnx"));
    Path tokenizer = dir.resolve("tokenizer.json");
    try (InputStream in =
        S3LocationsIT.class
            .getClassLoader()
            .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    Path sentences =
        Files.writeString(
            dir.resolve("s.txt"), "Sparse models run faster.\nTwo of every four weights stay.\n");
    s3.client().upload(model, "models", "dense/model.onnx");
    s3.client().upload(tokenizer, "models", "dense/tokenizer.json");
    s3.client().upload(sentences, "models", "data/sentences.txt");
  }

  @AfterAll
  static void stop() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void prunesVerifiesAndEvaluatesObjectsInS3() throws Exception {
    SparsifyProcess.Result prune =
        sparsify(
            credentials(),
            "prune",
            "--method",
            "sparsegpt",
            "--model",
            "s3://models/dense/model.onnx",
            "--out",
            "s3://models/run 1/pruned.onnx",
            "--tokenizer",
            "s3://models/dense/tokenizer.json",
            "--calibration",
            "s3://models/data/sentences.txt",
            "--report",
            "s3://models/run 1/reports/prune.json",
            "--json");
    assertThat(prune.exitCode()).as(prune.stderr()).isZero();
    assertThat(prune.stdout()).contains("\"output\":\"s3://models/run 1/pruned.onnx\"");

    SparsifyProcess.Result verify =
        sparsify(credentials(), "verify", "--model", "s3://models/run 1/pruned.onnx", "--json");
    assertThat(verify.stdout()).contains("\"sparseLayers\":2");
    Path report = dir.resolve("report.json");
    s3.client().download("models", "run 1/reports/prune.json", report);
    assertThat(Files.readString(report)).contains("\"layersPruned\" : 2");

    SparsifyProcess.Result evaluate =
        sparsify(
            credentials(),
            "evaluate",
            "--dense",
            "s3://models/dense/model.onnx",
            "--candidate",
            "s3://models/run 1/pruned.onnx",
            "--tokenizer",
            "s3://models/dense/tokenizer.json",
            "--data",
            "s3://models/data/sentences.txt",
            "--json");
    assertThat(evaluate.exitCode()).as(evaluate.stderr()).isZero();
    assertThat(evaluate.stdout()).contains("\"cosineMean\"");
  }

  @Test
  void aMissingObjectIsBadInputWithTheServersAnswer() throws Exception {
    SparsifyProcess.Result result =
        sparsify(credentials(), "verify", "--model", "s3://models/nope.onnx");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("cannot read s3://models/nope.onnx: HTTP 404");
  }

  @Test
  void wrongCredentialsAreRefusedByTheServer() throws Exception {
    Map<String, String> env = credentials();
    env.put("AWS_SECRET_ACCESS_KEY", "wrong");

    SparsifyProcess.Result result =
        sparsify(env, "verify", "--model", "s3://models/dense/model.onnx");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("HTTP 403");
  }

  @Test
  void missingCredentialsAreNamed() throws Exception {
    SparsifyProcess.Result result =
        sparsify(
            Map.of("SPARSIFY_S3_ENDPOINT", s3.endpoint(), "SPARSIFY_S3_ALLOW_HTTP", "true"),
            "verify",
            "--model",
            "s3://models/dense/model.onnx");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }

  private static Map<String, String> credentials() {
    return new java.util.HashMap<>(
        Map.of(
            "AWS_ACCESS_KEY_ID",
            S3ProxyServer.ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY",
            S3ProxyServer.SECRET_KEY,
            "SPARSIFY_S3_ENDPOINT",
            s3.endpoint(),
            "SPARSIFY_S3_ALLOW_HTTP",
            "true"));
  }

  private static SparsifyProcess.Result sparsify(Map<String, String> env, String... args)
      throws Exception {
    return SparsifyProcess.run(dir, env, args);
  }
}
