package io.sparserollout.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeRangeTest {
  private static final int[] BATCH = {1, 8, 32};
  private static final int[] SEQUENCE = {1, 128, 256};

  @Test
  void encoderInputsTakeBatchAndSequence() {
    Map<String, long[]> inputs = new LinkedHashMap<>();
    inputs.put("input_ids", new long[] {-1, -1});
    inputs.put("attention_mask", new long[] {-1, -1});
    List<ShapeRange> profile = ShapeRange.profile(inputs, BATCH, SEQUENCE);
    assertThat(profile)
        .extracting(ShapeRange::input)
        .containsExactly("input_ids", "attention_mask");
    assertThat(profile.get(0).min()).containsExactly(1, 1);
    assertThat(profile.get(0).opt()).containsExactly(8, 128);
    assertThat(profile.get(0).max()).containsExactly(32, 256);
  }

  @Test
  void fixedAxesStayAsDeclared() {
    List<ShapeRange> profile =
        ShapeRange.profile(Map.of("pixels", new long[] {-1, 3, 224, 224}), BATCH, SEQUENCE);
    assertThat(profile.get(0).min()).containsExactly(1, 3, 224, 224);
    assertThat(profile.get(0).max()).containsExactly(32, 3, 224, 224);
  }

  @Test
  void everyDynamicAxisAfterTheBatchTakesTheSequenceRangeAsTheSpecSays() {
    // A text recognizer's crops: fixed channels and height, dynamic batch and width.
    List<ShapeRange> profile =
        ShapeRange.profile(Map.of("x", new long[] {-1, 3, 48, -1}), BATCH, SEQUENCE);
    assertThat(profile.get(0).min()).containsExactly(1, 3, 48, 1);
    assertThat(profile.get(0).opt()).containsExactly(8, 3, 48, 128);
    assertThat(profile.get(0).max()).containsExactly(32, 3, 48, 256);
    assertThat(
            ShapeRange.profile(Map.of("image", new long[] {-1, 3, -1, -1}), BATCH, SEQUENCE)
                .get(0)
                .max())
        .containsExactly(32, 3, 256, 256);
  }
}
