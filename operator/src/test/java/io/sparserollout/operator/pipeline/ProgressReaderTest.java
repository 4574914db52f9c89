package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.StageProgressStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressReaderTest {
  @Test
  void aSensibleAnswerBecomesStatusRounded() {
    assertThat(
            ProgressReader.parse(
                "{\"stage\":\"finetune\",\"step\":40,\"steps\":100,\"heldOutFidelity\":0.934567,"
                    + "\"seconds\":52.0,\"secondsLeft\":78.4,\"more\":1}"))
        .hasValue(new StageProgressStatus("finetune", 40, 100, 0.9346, 78L));
    assertThat(
            ProgressReader.parse(
                "{\"stage\":\"finetune\",\"step\":0,\"steps\":100,\"seconds\":9.0}"))
        .hasValue(new StageProgressStatus("finetune", 0, 100, null, null));
  }

  /** A pod can answer anything: what status cannot show, or would mislead, is left out. */
  @Test
  void anythingElseIsLeftOut() {
    for (String body :
        List.of(
            "",
            "null",
            "[1]",
            "{\"stage\":\"finetune\",\"step\":101,\"steps\":100}",
            "{\"stage\":\"finetune\",\"step\":-1,\"steps\":100}",
            "{\"stage\":\"finetune\",\"step\":1,\"steps\":0}",
            "{\"stage\":\"prune\",\"step\":1,\"steps\":2}",
            "{\"stage\":\"finetune\",\"step\":1,\"steps\":2,\"heldOutFidelity\":\"NaN\"}",
            "{\"stage\":\"finetune\",\"step\":1,\"steps\":2,\"heldOutFidelity\":7}",
            "{\"stage\":\"finetune\",\"step\":1,\"steps\":2,\"secondsLeft\":-5}",
            "{\"stage\":\"finetune\",\"step\":1,\"steps\":2,\"secondsLeft\":1e400}")) {
      assertThat(ProgressReader.parse(body)).as(body).isEmpty();
    }
  }
}
