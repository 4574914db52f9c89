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
