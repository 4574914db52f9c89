package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;

class S3StoreTest {
  @Test
  void partsGrowSoThatNoObjectNeedsMoreThanTenThousand() {
    assertThat(S3Store.partSize(1)).isEqualTo(S3Store.MIN_PART_SIZE);
    assertThat(S3Store.partSize(5L << 40)).isEqualTo(((5L << 40) + 9_999) / 10_000);
  }

  @Test
  void aPlainHttpEndpointNeedsToBeAllowed() {
    assertThatThrownBy(
            () ->
                S3Store.create(
                    Map.of("SPARSIFY_S3_ENDPOINT", "http://minio:9000"),
                    AnonymousCredentialsProvider.create()))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("is plain http");
    assertThatThrownBy(
            () ->
                S3Store.create(
                    Map.of("SPARSIFY_S3_ENDPOINT", "ftp://minio"),
                    AnonymousCredentialsProvider.create()))
        .hasMessageContaining("is not an http(s) URL");
    S3Store.create(
            Map.of("SPARSIFY_S3_ENDPOINT", "http://minio:9000", "SPARSIFY_S3_ALLOW_HTTP", "true"),
            AnonymousCredentialsProvider.create())
        .close();
  }

  @Test
  void anHttpEndpointTheSdkWouldReadFromTheEnvironmentIsRefusedToo() {
    assertThatThrownBy(
            () ->
                S3Store.create(
                    Map.of("AWS_ENDPOINT_URL_S3", "http://minio:9000"),
                    AnonymousCredentialsProvider.create()))
        .hasMessageContaining("is plain http");
    assertThatThrownBy(
            () ->
                S3Store.create(
                    Map.of("SPARSIFY_S3_ENDPOINT", "https://bad host"),
                    AnonymousCredentialsProvider.create()))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("is not a URL");
  }

  @Test
  void aPodNeverBorrowsTheNodesInstanceRole() {
    assertThat(S3Store.podCredentials().toString())
        .contains("WebIdentityTokenFileCredentialsProvider", "ContainerCredentialsProvider")
        .doesNotContain("InstanceProfile");
  }
}
