package io.sparserollout.serving.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferRequestsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<TensorSpec> BATCHED =
      List.of(
          new TensorSpec("input_ids", Datatype.INT64, new long[] {-1, -1}),
          new TensorSpec("attention_mask", Datatype.INT64, new long[] {-1, -1}));

  @Test
  void inputsThatDisagreeOnTheBatchDimensionAreABadRequest() throws Exception {
    String body =
        """
        {"inputs": [
          {"name": "input_ids", "datatype": "INT64", "shape": [1, 2], "data": [1, 2]},
          {"name": "attention_mask", "datatype": "INT64", "shape": [2, 2], "data": [1, 1, 1, 1]}]}
        """;

    assertThatThrownBy(() -> InferRequests.parse(JSON.readTree(body), BATCHED))
        .isInstanceOf(BadRequest.class)
        .hasMessage(
            "inputs must agree on their first (batch) dimension: input_ids has 1, attention_mask"
                + " has 2");
  }

  @Test
  void aShapeWhoseElementCountOverflowsIsRefusedBeforeAnyTensorIsBuilt() throws Exception {
    // 2^32 x 2^32 wraps to 0 in a long product, the length of the empty data given.
    String body =
        """
        {"inputs": [
          {"name": "input_ids", "datatype": "INT64", "shape": [4294967296, 4294967296], "data": []},
          {"name": "attention_mask", "datatype": "INT64", "shape": [4294967296, 4294967296],
           "data": []}]}
        """;

    assertThatThrownBy(() -> InferRequests.parse(JSON.readTree(body), BATCHED, RequestLimits.NONE))
        .isInstanceOf(BadRequest.class)
        .hasMessageContaining("has more elements than a request may carry");
  }

  @Test
  void rowsAndDynamicDimensionsBeyondWhatTheModelIsServedForAreRefused() throws Exception {
    RequestLimits limits = new RequestLimits(32, 128, 1 << 24);
    String manyRows =
        """
        {"inputs": [
          {"name": "input_ids", "datatype": "INT64", "shape": [33, 1], "data": %s},
          {"name": "attention_mask", "datatype": "INT64", "shape": [33, 1], "data": %s}]}
        """
            .formatted(ones(33), ones(33));
    String longSequence =
        """
        {"inputs": [
          {"name": "input_ids", "datatype": "INT64", "shape": [1, 129], "data": %s},
          {"name": "attention_mask", "datatype": "INT64", "shape": [1, 129], "data": %s}]}
        """
            .formatted(ones(129), ones(129));

    assertThatThrownBy(() -> InferRequests.parse(JSON.readTree(manyRows), BATCHED, limits))
        .isInstanceOf(BadRequest.class)
        .hasMessage("input input_ids has 33 rows; a request may carry at most 32");
    assertThatThrownBy(() -> InferRequests.parse(JSON.readTree(longSequence), BATCHED, limits))
        .isInstanceOf(BadRequest.class)
        .hasMessage("input input_ids dimension 1 is 129; the model is served for at most 128");
  }

  private static String ones(int n) {
    return java.util.Collections.nCopies(n, "1").toString();
  }

  @Test
  void aModelWithoutABatchDimensionAcceptsInputsOfAnyLeadingSize() throws Exception {
    List<TensorSpec> unbatched =
        List.of(
            new TensorSpec("input_ids", Datatype.INT64, new long[] {-1, -1}),
            new TensorSpec("scale", Datatype.FP32, new long[] {1}));
    String body =
        """
        {"inputs": [
          {"name": "input_ids", "datatype": "INT64", "shape": [2, 1], "data": [1, 2]},
          {"name": "scale", "datatype": "FP32", "shape": [1], "data": [2.0]}]}
        """;

    assertThat(InferRequests.parse(JSON.readTree(body), unbatched)).hasSize(2);
  }
}
