package io.sparserollout.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator writes status only when it differs from the cached one (by equals): a field equals
 * leaves out is a change that is never written.
 */
class SparseModelStatusTest {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .configure(
              com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
              false);

  /** A non-default value of each field's JSON form. */
  private static final Map<String, String> CHANGED =
      Map.ofEntries(
          Map.entry("phase", "\"Promoted\""),
          Map.entry("observedGeneration", "3"),
          Map.entry("revision", "\"abc\""),
          Map.entry("conditions", "[{\"type\":\"Ready\"}]"),
          Map.entry("pruning", "{\"method\":\"magnitude\"}"),
          Map.entry("capturedData", "{\"evaluation\":{\"samples\":300}}"),
          Map.entry("drift", "{\"revision\":\"r1\",\"drifting\":true}"),
          Map.entry("recalibration", "{\"count\":1}"),
          Map.entry("captureEpoch", "2"),
          Map.entry("gate", "{\"metric\":\"cosine-fidelity\"}"),
          Map.entry("engine", "{\"backend\":\"onnxruntime\"}"),
          Map.entry("progress", "{\"stage\":\"finetune\",\"step\":3}"),
          Map.entry("rollout", "{\"canaryRevision\":\"abc\"}"),
          Map.entry("completedStages", "[{\"stage\":\"prune\"}]"),
          Map.entry("history", "[{\"phase\":\"Pruning\"}]"),
          Map.entry("artifactKey", "\"k\""),
          Map.entry("reusedFrom", "{\"model\":\"m\"}"),
          Map.entry("artifactRun", "\"run\""),
          Map.entry("variants", "[{\"name\":\"dense-fp32\"}]"));

  @Test
  void everyFieldCountsInEquality() throws Exception {
    for (Field field : SparseModelStatus.class.getDeclaredFields()) {
      if (Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      assertThat(CHANGED)
          .as("a changed value for status.%s", field.getName())
          .containsKey(field.getName());
      SparseModelStatus changed =
          JSON.readValue(
              "{\"" + field.getName() + "\":" + CHANGED.get(field.getName()) + "}",
              SparseModelStatus.class);
      assertThat(changed)
          .as("status with %s changed", field.getName())
          .isNotEqualTo(new SparseModelStatus());
      assertThat(changed.hashCode())
          .as("hash of %s", field.getName())
          .isNotEqualTo(new SparseModelStatus().hashCode());
    }
  }
}
