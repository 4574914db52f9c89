package io.sparserollout.serving.grpc;

import com.google.protobuf.ByteString;
import io.sparserollout.serving.grpc.v2.InferTensorContents;
import io.sparserollout.serving.grpc.v2.ModelInferRequest;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.InferRequests;
import io.sparserollout.serving.protocol.InferRequests.StatedInput;
import io.sparserollout.serving.protocol.RawTensors;
import io.sparserollout.serving.protocol.RequestLimits;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a gRPC {@code ModelInferRequest} into tensors through the checks the REST requests pass:
 * the values come from {@code raw_input_contents} (one entry per input, in input order) or from
 * each input's typed contents, never both.
 */
public final class GrpcRequests {
  private GrpcRequests() {}

  public static List<Tensor> parse(
      ModelInferRequest request, List<TensorSpec> declared, RequestLimits limits) {
    boolean raw = request.getRawInputContentsCount() > 0;
    if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
      throw new BadRequest(
          "raw_input_contents has "
              + request.getRawInputContentsCount()
              + " entries; the request has "
              + request.getInputsCount()
              + " inputs, and needs one entry per input");
    }
    List<StatedInput> stated = new ArrayList<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      String name = input.getName();
      if (raw && input.hasContents()) {
        throw new BadRequest(
            "input " + name + " has contents while the request carries raw_input_contents");
      }
      ByteString bytes = raw ? request.getRawInputContents(i) : null;
      stated.add(
          new StatedInput(
              name,
              input.getDatatype(),
              () -> input.getShapeList().stream().mapToLong(Long::longValue).toArray(),
              raw
                  ? (type, shape, count) ->
                      RawTensors.read(name, type, bytes.asReadOnlyByteBuffer(), count)
                  : (type, shape, count) -> typed(name, type, shape, input.getContents(), count)));
    }
    return InferRequests.check(stated, declared, limits);
  }

  /** The values in the typed field of the datatype, which must hold exactly {@code count}. */
  static Object typed(
      String name, Datatype type, long[] shape, InferTensorContents contents, long count) {
    String field = field(type);
    int given =
        switch (type) {
          case BOOL -> contents.getBoolContentsCount();
          case INT8, INT16, INT32 -> contents.getIntContentsCount();
          case UINT8 -> contents.getUintContentsCount();
          case INT64 -> contents.getInt64ContentsCount();
          case FP32 -> contents.getFp32ContentsCount();
          case FP64 -> contents.getFp64ContentsCount();
          case BYTES -> contents.getBytesContentsCount();
          case FP16 ->
              throw new BadRequest(
                  "input " + name + " is FP16, which travels only in raw_input_contents");
        };
    if (given != count) {
      throw new BadRequest(
          "input "
              + name
              + " has "
              + given
              + " values in "
              + field
              + "; shape "
              + Arrays.toString(shape)
              + " needs "
              + count);
    }
    int n = (int) count;
    switch (type) {
      case BOOL -> {
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
          out[i] = contents.getBoolContents(i);
        }
        return out;
      }
      case INT64 -> {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
          out[i] = contents.getInt64Contents(i);
        }
        return out;
      }
      case INT32 -> {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = contents.getIntContents(i);
        }
        return out;
      }
      case INT16 -> {
        short[] out = new short[n];
        for (int i = 0; i < n; i++) {
          out[i] = (short) inRange(name, type, contents.getIntContents(i), -32768, 32767);
        }
        return out;
      }
      case INT8, UINT8 -> {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
          out[i] =
              (byte)
                  (type == Datatype.INT8
                      ? inRange(name, type, contents.getIntContents(i), -128, 127)
                      : inRange(
                          name, type, Integer.toUnsignedLong(contents.getUintContents(i)), 0, 255));
        }
        return out;
      }
      case FP32 -> {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
          out[i] = contents.getFp32Contents(i);
        }
        return out;
      }
      case FP64 -> {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
          out[i] = contents.getFp64Contents(i);
        }
        return out;
      }
      default -> {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
          try {
            out[i] =
                StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(contents.getBytesContents(i).asReadOnlyByteBuffer())
                    .toString();
          } catch (CharacterCodingException e) {
            throw new BadRequest("input " + name + " element " + i + " is not UTF-8 text");
          }
        }
        return out;
      }
    }
  }

  private static long inRange(String name, Datatype type, long value, long min, long max) {
    if (value < min || value > max) {
      throw new BadRequest("input " + name + " value " + value + " is not a valid " + type);
    }
    return value;
  }

  /** The InferTensorContents field that carries a datatype's values. */
  static String field(Datatype type) {
    return switch (type) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case UINT8 -> "uint_contents";
      case INT64 -> "int64_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      case BYTES -> "bytes_contents";
      case FP16 -> "raw_input_contents";
    };
  }
}
