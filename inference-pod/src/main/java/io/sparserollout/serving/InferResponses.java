package io.sparserollout.serving;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Tensor;
import java.util.List;

/** Inference responses: JSON tensors, or the binary tensor data extension. */
final class InferResponses {
  private InferResponses() {}

  /**
   * The response, streamed straight to bytes: a tree of number nodes costs more than the model for
   * large outputs (a batch of 32 hidden states is 200k floats).
   */
  static byte[] encode(
      ObjectMapper json,
      String modelName,
      String version,
      JsonNode id,
      List<Tensor> tensors,
      java.io.ByteArrayOutputStream binary) {
    var bytes = new java.io.ByteArrayOutputStream(1 << 16);
    try (JsonGenerator out = json.getFactory().createGenerator(bytes)) {
      // Schubfach float formatting: several times faster than Float.toString for 200k floats.
      out.enable(
          com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER.mappedFeature());
      out.writeStartObject();
      out.writeStringField("model_name", modelName);
      out.writeStringField("model_version", version);
      if (id != null && !id.isNull()) {
        out.writeFieldName("id");
        out.writeTree(id);
      }
      out.writeArrayFieldStart("outputs");
      for (Tensor tensor : tensors) {
        out.writeStartObject();
        out.writeStringField("name", tensor.name());
        out.writeStringField("datatype", tensor.datatype().name());
        out.writeFieldName("shape");
        out.writeArray(tensor.shape(), 0, tensor.shape().length);
        if (binary == null) {
          out.writeFieldName("data");
          writeData(out, tensor);
        } else {
          byte[] raw = rawLittleEndian(tensor.data());
          binary.write(raw);
          out.writeObjectFieldStart("parameters");
          out.writeNumberField("binary_data_size", raw.length);
          out.writeEndObject();
        }
        out.writeEndObject();
      }
      out.writeEndArray();
      out.writeEndObject();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static byte[] rawLittleEndian(Object data) {
    int n = java.lang.reflect.Array.getLength(data);
    if (data instanceof byte[] b) {
      return b.clone();
    }
    if (data instanceof boolean[] bools) {
      byte[] out = new byte[n];
      for (int i = 0; i < n; i++) {
        out[i] = (byte) (bools[i] ? 1 : 0);
      }
      return out;
    }
    int width =
        data instanceof long[] || data instanceof double[] ? 8 : data instanceof short[] ? 2 : 4;
    java.nio.ByteBuffer buffer =
        java.nio.ByteBuffer.allocate(n * width).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (data instanceof float[] f) {
      buffer.asFloatBuffer().put(f);
    } else if (data instanceof double[] d) {
      buffer.asDoubleBuffer().put(d);
    } else if (data instanceof long[] l) {
      buffer.asLongBuffer().put(l);
    } else if (data instanceof int[] i) {
      buffer.asIntBuffer().put(i);
    } else {
      buffer.asShortBuffer().put((short[]) data);
    }
    return buffer.array();
  }

  private static void writeData(JsonGenerator out, Tensor tensor) throws java.io.IOException {
    Object data = tensor.data();
    if (data instanceof float[] f) {
      out.writeStartArray(f, f.length);
      for (float v : f) {
        out.writeNumber(v);
      }
      out.writeEndArray();
    } else if (data instanceof double[] d) {
      out.writeArray(d, 0, d.length);
    } else if (data instanceof long[] l) {
      out.writeArray(l, 0, l.length);
    } else if (data instanceof int[] i) {
      out.writeArray(i, 0, i.length);
    } else if (data instanceof byte[] b) {
      boolean unsigned = tensor.datatype() == io.sparserollout.serving.protocol.Datatype.UINT8;
      out.writeStartArray(b, b.length);
      for (byte v : b) {
        out.writeNumber(unsigned ? v & 0xFF : v);
      }
      out.writeEndArray();
    } else if (data instanceof short[] sh) {
      out.writeStartArray(sh, sh.length);
      for (short v : sh) {
        out.writeNumber(v);
      }
      out.writeEndArray();
    } else {
      boolean[] bools = (boolean[]) data;
      out.writeStartArray(bools, bools.length);
      for (boolean v : bools) {
        out.writeBoolean(v);
      }
      out.writeEndArray();
    }
  }
}
