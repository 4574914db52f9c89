package io.sparserollout.serving.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonBytesTest {
  private static String write(float value) {
    return new String(new JsonBytes(4).number(value).toByteArray(), StandardCharsets.US_ASCII);
  }

  @Test
  void everyFloatReadsBackExactly() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 2_000_000; i++) {
      float value = Float.intBitsToFloat(random.nextInt());
      if (Float.isFinite(value)) {
        String text = write(value);
        assertEquals(
            Float.floatToRawIntBits(value),
            Float.floatToRawIntBits(Float.parseFloat(text)),
            () -> value + " was written as " + text);
      }
    }
  }

  @Test
  void edgeValuesReadBackExactly() {
    float[] edges = {
      Float.MIN_VALUE,
      Float.MIN_NORMAL,
      Float.MAX_VALUE,
      1e-3f,
      9.999999e-4f,
      1e7f,
      9999999f,
      0.1f,
      1f,
      10f,
      100f,
      1e6f,
      123.456f,
      0.5f,
      3.4e38f,
      1.17549435E-38f,
      16777216f,
      16777215f
    };
    for (float edge : edges) {
      for (float value : new float[] {edge, -edge, Math.nextUp(edge), Math.nextDown(edge)}) {
        if (Float.isInfinite(value)) {
          continue;
        }
        assertEquals(value, Float.parseFloat(write(value)), () -> "value " + value);
      }
    }
  }

  @Test
  void readableForms() {
    assertEquals("0.0", write(0f));
    assertEquals("-0.0", write(-0f));
    assertEquals("1.0", write(1f));
    assertEquals("100.0", write(100f));
    assertEquals("-2.5", write(-2.5f));
    assertEquals("0.001953125", write(0x1p-9f));
    assertEquals("1.0E7", write(1e7f));
    assertEquals("1.0E10", write(1e10f));
    assertEquals("9.53674316E-7", write(0x1p-20f));
    // Nine digits, not the shortest form: exact on reading, cheaper to write.
    assertEquals("0.00100000005", write(1e-3f));
    assertEquals("9999999.0", write(9999999f));
    assertEquals("1234567.25", write(1234567.25f));
    assertEquals("-0.5", write(-0.5f));
    assertEquals("0.0123456791", write(0.0123456789f));
    assertEquals("9.99999975E-5", write(1e-4f));
    assertEquals("1.40129846E-45", write(Float.MIN_VALUE));
    assertEquals("3.40282347E38", write(Float.MAX_VALUE));
    assertEquals("\"NaN\"", write(Float.NaN));
    assertEquals("\"-Infinity\"", write(Float.NEGATIVE_INFINITY));
  }

  @Test
  void eightDigitsComeOneAByteMostSignificantFirst() {
    assertEquals(0x0807_0605_0403_0201L, JsonBytes.eightDigits(12_345_678));
    assertEquals(0x0909_0909_0909_0909L, JsonBytes.eightDigits(99_999_999));
    assertEquals(0L, JsonBytes.eightDigits(0));
    assertEquals(0x0100_0000_0000_0000L, JsonBytes.eightDigits(1));
  }

  @Test
  void numbersFollowEachOtherWithoutLeftovers() {
    JsonBytes out = new JsonBytes(1);
    for (float value : new float[] {1f, 1234567.25f, 0.001f, 1e-4f, -2.5f, 3e20f}) {
      out.number(value).raw(',');
    }
    assertEquals(
        "1.0,1234567.25,0.00100000005,9.99999975E-5,-2.5,3.00000006E20,",
        new String(out.toByteArray(), StandardCharsets.US_ASCII));
  }

  @Test
  void isJsonThatParsersReadBack() throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    float[] values = new float[1000];
    JsonBytes out =
        new JsonBytes(16).raw("{\"name\":").string("a \"quoted\"\n name").raw(",\"data\":[");
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-8, 9)));
      (i == 0 ? out : out.raw(',')).number(values[i]);
    }
    out.raw("],\"longs\":[")
        .number(Long.MIN_VALUE)
        .raw(',')
        .number(-7L)
        .raw(',')
        .number(0L)
        .raw("]}");
    var tree = new ObjectMapper().readTree(out.toByteArray());
    assertEquals("a \"quoted\"\n name", tree.get("name").asText());
    for (int i = 0; i < values.length; i++) {
      assertEquals(values[i], tree.get("data").get(i).floatValue());
    }
    assertEquals(Long.MIN_VALUE, tree.get("longs").get(0).longValue());
    assertEquals(-7L, tree.get("longs").get(1).longValue());
  }
}
