package io.sparserollout.serving.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.sparserollout.serving.grpc.v2.InferTensorContents;
import io.sparserollout.serving.grpc.v2.ModelInferRequest;
import io.sparserollout.serving.grpc.v2.ModelInferResponse;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.RawTensors;
import io.sparserollout.serving.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes a model's outputs as a gRPC {@code ModelInferResponse}. */
public final class GrpcResponses {
  private GrpcResponses() {}

  /**
   * What the answer needs of a request, kept while it waits for the model instead of the request
   * itself, whose contents the tensors already hold.
   *
   * @param id the request's id
   * @param outputs the outputs it names, or none for all
   * @param raw whether it sent raw contents
   */
  public record Envelope(String id, List<String> outputs, boolean raw) {
    public static Envelope of(ModelInferRequest request) {
      return new Envelope(
          request.getId(),
          request.getOutputsList().stream()
              .map(ModelInferRequest.InferRequestedOutputTensor::getName)
              .toList(),
          request.getRawInputContentsCount() > 0);
    }
  }

  /** The outputs the request names, in its order, or all of them. */
  public static List<Tensor> selected(Envelope request, Map<String, Tensor> outputs) {
    if (request.outputs().isEmpty()) {
      return List.copyOf(outputs.values());
    }
    List<Tensor> chosen = new ArrayList<>();
    for (String wanted : request.outputs()) {
      Tensor t = outputs.get(wanted);
      if (t == null) {
        throw new BadRequest("unknown output " + wanted + "; the model gives " + outputs.keySet());
      }
      chosen.add(t);
    }
    return chosen;
  }

  /**
   * Raw contents when the request sent raw contents (as KServe's servers answer) or when an output
   * is FP16, which has no typed field; typed contents otherwise.
   */
  public static ModelInferResponse encode(
      ModelInferRequest request, String model, String version, List<Tensor> outputs) {
    return encode(Envelope.of(request), model, version, outputs);
  }

  public static ModelInferResponse encode(
      Envelope request, String model, String version, List<Tensor> outputs) {
    boolean raw = request.raw() || outputs.stream().anyMatch(t -> t.datatype() == Datatype.FP16);
    ModelInferResponse.Builder response =
        ModelInferResponse.newBuilder()
            .setModelName(model)
            .setModelVersion(version)
            .setId(request.id());
    for (Tensor t : outputs) {
      ModelInferResponse.InferOutputTensor.Builder out =
          response.addOutputsBuilder().setName(t.name()).setDatatype(t.datatype().name());
      for (long d : t.shape()) {
        out.addShape(d);
      }
      if (raw) {
        // A fresh array nobody else holds: wrapped, not copied again.
        response.addRawOutputContents(UnsafeByteOperations.unsafeWrap(RawTensors.bytes(t.data())));
      } else {
        out.setContents(typed(t));
      }
    }
    return response.build();
  }

  static InferTensorContents typed(Tensor t) {
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    Object data = t.data();
    if (data instanceof float[] f) {
      for (float v : f) {
        contents.addFp32Contents(v);
      }
    } else if (data instanceof double[] d) {
      for (double v : d) {
        contents.addFp64Contents(v);
      }
    } else if (data instanceof long[] l) {
      for (long v : l) {
        contents.addInt64Contents(v);
      }
    } else if (data instanceof int[] i) {
      for (int v : i) {
        contents.addIntContents(v);
      }
    } else if (data instanceof short[] s) {
      for (short v : s) {
        contents.addIntContents(v);
      }
    } else if (data instanceof byte[] b) {
      for (byte v : b) {
        if (t.datatype() == Datatype.UINT8) {
          contents.addUintContents(v & 0xFF);
        } else {
          contents.addIntContents(v);
        }
      }
    } else if (data instanceof boolean[] z) {
      for (boolean v : z) {
        contents.addBoolContents(v);
      }
    } else {
      for (String v : (String[]) data) {
        contents.addBytesContents(ByteString.copyFrom(v, StandardCharsets.UTF_8));
      }
    }
    return contents.build();
  }
}
