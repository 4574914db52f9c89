package io.sparserollout.serving.capture;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Half;
import io.sparserollout.serving.protocol.Tensor;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request's inputs as captured samples: one JSON line per row, each an Open Inference Protocol v2
 * request body of one row ({@code {"inputs": [...]}}), so it can be sent to a model again as it is.
 * A request whose inputs do not share a batch dimension is one sample as a whole.
 */
public final class CaptureRows {
  private CaptureRows() {}

  public static List<byte[]> lines(ObjectMapper json, List<Tensor> inputs) {
    long rows = rows(inputs);
    List<byte[]> lines = new ArrayList<>();
    try {
      if (rows < 0) {
        lines.add(line(json, inputs, -1));
      } else {
        for (int row = 0; row < rows; row++) {
          lines.add(line(json, inputs, row));
        }
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("could not write a captured sample", e);
    }
    return lines;
  }

  /** The shared batch size, or -1 where the inputs have none. */
  static long rows(List<Tensor> inputs) {
    long rows = -1;
    for (Tensor t : inputs) {
      if (t.shape().length == 0 || (rows >= 0 && t.shape()[0] != rows)) {
        return -1;
      }
      rows = t.shape()[0];
    }
    return rows;
  }

  private static byte[] line(ObjectMapper json, List<Tensor> inputs, int row)
      throws JsonProcessingException {
    List<Map<String, Object>> tensors = new ArrayList<>();
    for (Tensor t : inputs) {
      long[] shape = t.shape().clone();
      Object data = t.data();
      if (row >= 0) {
        int per = Math.toIntExact(Tensor.elements(t.shape()) / t.shape()[0]);
        Object slice = Array.newInstance(data.getClass().getComponentType(), per);
        System.arraycopy(data, row * per, slice, 0, per);
        data = slice;
        shape[0] = 1;
      }
      Map<String, Object> tensor = new LinkedHashMap<>();
      tensor.put("name", t.name());
      tensor.put("datatype", t.datatype().name());
      tensor.put("shape", shape);
      tensor.put("data", json(t.datatype(), data));
      tensors.add(tensor);
    }
    byte[] body = json.writeValueAsBytes(Map.of("inputs", tensors));
    byte[] line = java.util.Arrays.copyOf(body, body.length + 1);
    line[body.length] = '\n';
    return line;
  }

  /** Data as v2 JSON writes it: numbers for every numeric type, text for BYTES. */
  private static Object json(Datatype type, Object data) {
    return switch (type) {
      case FP16 -> floats((short[]) data);
      // Jackson would write a byte[] as base64.
      case INT8 -> widen((byte[]) data, false);
      case UINT8 -> widen((byte[]) data, true);
      default -> data;
    };
  }

  private static int[] widen(byte[] bytes, boolean unsigned) {
    int[] values = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      values[i] = unsigned ? bytes[i] & 0xFF : bytes[i];
    }
    return values;
  }

  private static float[] floats(short[] halves) {
    float[] floats = new float[halves.length];
    for (int i = 0; i < halves.length; i++) {
      floats[i] = Half.toFloat(halves[i]);
    }
    return floats;
  }
}
