package io.sparserollout.sparsify.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import org.junit.jupiter.api.Test;

class LocationsTest {

  @Test
  void anS3KeyThatWouldLeaveItsBucketIsRefusedBeforeAnyRequest() {
    Locations locations = new Locations();
    // No credentials exist in this test: reaching S3 would fail with another message.
    assertThatThrownBy(() -> locations.input("s3://models/team-a/../../etc/model.onnx"))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("\"..\" segment");
    assertThatThrownBy(() -> locations.output("s3://models/../other-bucket/pruned.onnx"))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("\"..\" segment");
    // An empty segment would make the key an absolute path on the pod's filesystem.
    assertThatThrownBy(() -> locations.input("s3://models//mnt/store/engine/model.onnx"))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("empty path segment");
  }
}
