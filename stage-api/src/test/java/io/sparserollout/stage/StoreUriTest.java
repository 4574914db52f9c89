package io.sparserollout.stage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StoreUriTest {

  @Test
  void locationsInsideTheirClaimOrBucketAreUsable() {
    assertThat(StoreUri.problem("pvc://models/minilm/model.onnx")).isEmpty();
    assertThat(StoreUri.problem("pvc://models.v2/a..b/model.onnx")).isEmpty();
    assertThat(StoreUri.problem("s3://my-bucket/team/model.onnx")).isEmpty();
    assertThat(StoreUri.problem("https://example.com/../x")).isEmpty();
    assertThat(StoreUri.problem(null)).isEmpty();
  }

  @Test
  void segmentsThatLeaveTheClaimOrBucketAreRefused() {
    assertThat(StoreUri.problem("pvc://models/../../etc/passwd")).get().asString().contains("..");
    assertThat(StoreUri.problem("pvc://models/a/./b")).get().asString().contains("\".\"");
    assertThat(StoreUri.problem("s3://bucket/team/../other-team/model.onnx"))
        .get()
        .asString()
        .contains("..");
    assertThat(StoreUri.problem("s3://bucket/..")).isPresent();
    assertThat(StoreUri.problem("s3://bucket//mnt/store/model.onnx"))
        .get()
        .asString()
        .contains("empty path segment");
    assertThat(StoreUri.problem("pvc://models/a//b")).isPresent();
  }

  @Test
  void claimsAndBucketsMustBeNamesTheClusterAndS3Accept() {
    assertThat(StoreUri.problem("pvc://../x")).get().asString().contains("claim");
    assertThat(StoreUri.problem("pvc://Models/x")).isPresent();
    assertThat(StoreUri.problem("pvc://")).isPresent();
    assertThat(StoreUri.problem("s3://../x")).get().asString().contains("bucket");
    assertThat(StoreUri.problem("s3://a/x")).isPresent();
  }
}
