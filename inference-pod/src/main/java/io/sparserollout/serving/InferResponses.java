package io.sparserollout.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Half;
import io.sparserollout.serving.protocol.JsonBytes;
import io.sparserollout.serving.protocol.RawTensors;
import io.sparserollout.serving.protocol.Tensor;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/** Inference responses: JSON tensors, or the binary tensor data extension. */
final class InferResponses {
  private InferResponses() {}

  /**
   * A response body, the first {@code length} bytes of {@code array} (not copied to its exact size:
   * a batch's JSON is megabytes); with binary outputs, the JSON header is its first headerLength.
   */
  record Encoded(byte[] array, int length, int headerLength, boolean binary) {
    byte[] body() {
      return Arrays.copyOf(array, length);
    }
  }

  /**
   * The response written straight to bytes: the tensors' data as JSON arrays, or (the binary tensor
   * data extension) raw little-endian after the JSON header, announced by size.
   */
  static Encoded encode(
      ObjectMapper json,
      String modelName,
      String version,
      JsonNode id,
      List<Tensor> tensors,
      boolean binary) {
    int elements = tensors.stream().mapToInt(t -> Array.getLength(t.data())).sum();
    // 13 bytes a float with its comma, as hidden states mostly are: one allocation, no regrowth.
    JsonBytes out = new JsonBytes(256 + (binary ? 0 : elements * 14));
    out.raw("{\"model_name\":").string(modelName);
    out.raw(",\"model_version\":").string(version);
    if (id != null && !id.isNull()) {
      try {
        out.raw(",\"id\":").raw(json.writeValueAsBytes(id));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    out.raw(",\"outputs\":[");
    int payload = 0;
    for (int i = 0; i < tensors.size(); i++) {
      Tensor tensor = tensors.get(i);
      out.raw(i == 0 ? "{\"name\":" : ",{\"name\":").string(tensor.name());
      out.raw(",\"datatype\":").string(tensor.datatype().name());
      out.raw(",\"shape\":[");
      for (int d = 0; d < tensor.shape().length; d++) {
        out.raw(d == 0 ? "" : ",").number(tensor.shape()[d]);
      }
      out.raw(']');
      if (binary) {
        int size = RawTensors.size(tensor.data());
        out.raw(",\"parameters\":{\"binary_data_size\":").number(size).raw('}');
        payload += size;
      } else {
        out.raw(",\"data\":");
        writeData(out, tensor);
      }
      out.raw('}');
    }
    out.raw("]}");
    if (!binary) {
      return new Encoded(out.array(), out.size(), out.size(), false);
    }
    byte[] body = Arrays.copyOf(out.toByteArray(), out.size() + payload);
    ByteBuffer raw = ByteBuffer.wrap(body, out.size(), payload).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor tensor : tensors) {
      RawTensors.put(raw, tensor.data());
    }
    return new Encoded(body, body.length, out.size(), true);
  }

  private static void writeData(JsonBytes out, Tensor tensor) {
    Object data = tensor.data();
    int n = Array.getLength(data);
    out.raw('[');
    if (data instanceof float[] f) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(f[i]);
      }
    } else if (data instanceof double[] d) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(d[i]);
      }
    } else if (data instanceof long[] l) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(l[i]);
      }
    } else if (data instanceof int[] v) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(v[i]);
      }
    } else if (data instanceof short[] s && tensor.datatype() == Datatype.FP16) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(Half.toFloat(s[i]));
      }
    } else if (data instanceof short[] s) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(s[i]);
      }
    } else if (data instanceof String[] strings) {
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).string(strings[i]);
      }
    } else if (data instanceof byte[] b) {
      boolean unsigned = tensor.datatype() == Datatype.UINT8;
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).number(unsigned ? b[i] & 0xFF : b[i]);
      }
    } else {
      boolean[] z = (boolean[]) data;
      for (int i = 0; i < n; i++) {
        (i == 0 ? out : out.raw(',')).raw(z[i] ? "true" : "false");
      }
    }
    out.raw(']');
  }
}
