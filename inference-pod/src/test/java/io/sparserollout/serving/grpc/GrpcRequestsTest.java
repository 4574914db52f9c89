package io.sparserollout.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.sparserollout.serving.grpc.v2.InferTensorContents;
import io.sparserollout.serving.grpc.v2.ModelInferRequest;
import io.sparserollout.serving.grpc.v2.ModelInferResponse;
import io.sparserollout.serving.protocol.BadRequest;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.RequestLimits;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrpcRequestsTest {
  private static final List<TensorSpec> FLOATS =
      List.of(new TensorSpec("x", Datatype.FP32, new long[] {-1, 2}));

  /**
   * Bytes written by hand from the protocol's field numbers (ModelInferRequest: model_name 1,
   * inputs 5, raw_input_contents 7; InferInputTensor: name 1, datatype 2, shape 3): the .proto here
   * must read them as any OIP v2 client writes them.
   */
  @Test
  void aRequestWrittenWithTheProtocolsFieldNumbersIsReadAsTheProtocolMeansIt() throws Exception {
    ByteArrayOutputStream input = new ByteArrayOutputStream();
    CodedOutputStream tensor = CodedOutputStream.newInstance(input);
    tensor.writeString(1, "x");
    tensor.writeString(2, "FP32");
    tensor.writeInt64(3, 1);
    tensor.writeInt64(3, 2);
    tensor.flush();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    CodedOutputStream request = CodedOutputStream.newInstance(body);
    request.writeString(1, "m");
    request.writeString(3, "id-7");
    request.writeByteArray(5, input.toByteArray());
    request.writeByteArray(7, le(1.5f, -2f));
    request.flush();

    ModelInferRequest parsed = ModelInferRequest.parseFrom(body.toByteArray());
    List<Tensor> tensors = GrpcRequests.parse(parsed, FLOATS, RequestLimits.NONE);

    assertThat(parsed.getModelName()).isEqualTo("m");
    assertThat(parsed.getId()).isEqualTo("id-7");
    assertThat(tensors.get(0).shape()).containsExactly(1, 2);
    assertThat((float[]) tensors.get(0).data()).containsExactly(1.5f, -2f);
  }

  /** ModelInferResponse: id 3, outputs 5 (name 1, datatype 2, shape 3), raw_output_contents 6. */
  @Test
  void aRawResponseCarriesItsTensorsUnderTheProtocolsFieldNumbers() throws Exception {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setId("id-7")
            .addInputs(input("x", "FP32", 1, 2))
            .addRawInputContents(ByteString.copyFrom(le(1f, 2f)))
            .build();
    Tensor out = new Tensor("y", Datatype.FP32, new long[] {1, 2}, new float[] {3f, 4f});

    byte[] encoded = GrpcResponses.encode(request, "m", "1", List.of(out)).toByteArray();

    List<Integer> fields = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(encoded);
    byte[] raw = null;
    for (int tag; (tag = in.readTag()) != 0; ) {
      fields.add(tag >>> 3);
      if (tag >>> 3 == 6) {
        raw = in.readByteArray();
      } else {
        in.skipField(tag);
      }
    }
    assertThat(fields).containsExactly(1, 2, 3, 5, 6);
    assertThat(raw).isEqualTo(le(3f, 4f));
  }

  @Test
  void typedContentsAreReadFromTheFieldOfTheirDatatypeAndCheckedForRange() {
    List<TensorSpec> specs =
        List.of(
            new TensorSpec("u", Datatype.UINT8, new long[] {2}),
            new TensorSpec("s", Datatype.BYTES, new long[] {1}));
    ModelInferRequest good =
        ModelInferRequest.newBuilder()
            .addInputs(
                input("u", "UINT8", 2)
                    .setContents(
                        InferTensorContents.newBuilder().addUintContents(0).addUintContents(255)))
            .addInputs(
                input("s", "BYTES", 1)
                    .setContents(
                        InferTensorContents.newBuilder()
                            .addBytesContents(ByteString.copyFromUtf8("héllo"))))
            .build();

    List<Tensor> tensors = GrpcRequests.parse(good, specs, RequestLimits.NONE);

    assertThat((byte[]) tensors.get(0).data()).containsExactly(0, (byte) 255);
    assertThat((String[]) tensors.get(1).data()).containsExactly("héllo");

    ModelInferRequest tooBig =
        good.toBuilder()
            .setInputs(
                0,
                input("u", "UINT8", 2)
                    .setContents(
                        InferTensorContents.newBuilder().addUintContents(1).addUintContents(256)))
            .build();
    assertThatThrownBy(() -> GrpcRequests.parse(tooBig, specs, RequestLimits.NONE))
        .isInstanceOf(BadRequest.class)
        .hasMessage("input u value 256 is not a valid UINT8");

    ModelInferRequest wrongField =
        good.toBuilder()
            .setInputs(
                0,
                input("u", "UINT8", 2)
                    .setContents(
                        InferTensorContents.newBuilder().addIntContents(1).addIntContents(2)))
            .build();
    assertThatThrownBy(() -> GrpcRequests.parse(wrongField, specs, RequestLimits.NONE))
        .isInstanceOf(BadRequest.class)
        .hasMessage("input u has 0 values in uint_contents; shape [2] needs 2");
  }

  @Test
  void rawContentsMustMatchTheInputsOneForOneAndExclusively() {
    ModelInferRequest.Builder base =
        ModelInferRequest.newBuilder().addInputs(input("x", "FP32", 1, 2));

    assertThatThrownBy(
            () ->
                GrpcRequests.parse(
                    base.clone()
                        .addRawInputContents(ByteString.copyFrom(le(1f, 2f)))
                        .addRawInputContents(ByteString.copyFrom(le(1f, 2f)))
                        .build(),
                    FLOATS,
                    RequestLimits.NONE))
        .hasMessage(
            "raw_input_contents has 2 entries; the request has 1 inputs, and needs one entry per"
                + " input");
    assertThatThrownBy(
            () ->
                GrpcRequests.parse(
                    ModelInferRequest.newBuilder()
                        .addInputs(
                            input("x", "FP32", 1, 2)
                                .setContents(
                                    InferTensorContents.newBuilder()
                                        .addFp32Contents(1)
                                        .addFp32Contents(2)))
                        .addRawInputContents(ByteString.copyFrom(le(1f, 2f)))
                        .build(),
                    FLOATS,
                    RequestLimits.NONE))
        .hasMessage("input x has contents while the request carries raw_input_contents");
    assertThatThrownBy(
            () ->
                GrpcRequests.parse(
                    base.clone().addRawInputContents(ByteString.copyFrom(new byte[7])).build(),
                    FLOATS,
                    RequestLimits.NONE))
        .hasMessage("input x has 7 raw bytes; 2 FP32 elements take 8");
  }

  @Test
  void rawStringsAndBooleansAreCheckedElementByElement() {
    List<TensorSpec> specs =
        List.of(
            new TensorSpec("s", Datatype.BYTES, new long[] {2}),
            new TensorSpec("b", Datatype.BOOL, new long[] {2}));
    ByteBuffer strings = ByteBuffer.allocate(4 + 2 + 4 + 3).order(ByteOrder.LITTLE_ENDIAN);
    strings.putInt(2).put("ab".getBytes(StandardCharsets.UTF_8));
    strings.putInt(3).put("cde".getBytes(StandardCharsets.UTF_8));
    ModelInferRequest.Builder request =
        ModelInferRequest.newBuilder()
            .addInputs(input("s", "BYTES", 2))
            .addInputs(input("b", "BOOL", 2))
            .addRawInputContents(ByteString.copyFrom(strings.array()))
            .addRawInputContents(ByteString.copyFrom(new byte[] {1, 0}));

    List<Tensor> tensors = GrpcRequests.parse(request.build(), specs, RequestLimits.NONE);

    assertThat((String[]) tensors.get(0).data()).containsExactly("ab", "cde");
    assertThat((boolean[]) tensors.get(1).data()).containsExactly(true, false);
    assertThatThrownBy(
            () ->
                GrpcRequests.parse(
                    request
                        .clone()
                        .setRawInputContents(
                            0, ByteString.copyFrom(strings.array(), 0, strings.capacity() - 1))
                        .build(),
                    specs,
                    RequestLimits.NONE))
        .hasMessage("input s string 1 overruns its raw bytes");
    assertThatThrownBy(
            () ->
                GrpcRequests.parse(
                    request
                        .clone()
                        .setRawInputContents(1, ByteString.copyFrom(new byte[] {1, 7}))
                        .build(),
                    specs,
                    RequestLimits.NONE))
        .hasMessage("input b BOOL element 1 is 7, not 0 or 1");
  }

  @Test
  void fp16TravelsRawBothWays() {
    List<TensorSpec> specs = List.of(new TensorSpec("h", Datatype.FP16, new long[] {2}));
    ModelInferRequest typed =
        ModelInferRequest.newBuilder()
            .addInputs(
                input("h", "FP16", 2)
                    .setContents(
                        InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2)))
            .build();
    assertThatThrownBy(() -> GrpcRequests.parse(typed, specs, RequestLimits.NONE))
        .hasMessage("input h is FP16, which travels only in raw_input_contents");

    Tensor half = new Tensor("h", Datatype.FP16, new long[] {2}, new short[] {0x3c00, 0x4000});
    ModelInferResponse response = GrpcResponses.encode(typed, "m", "1", List.of(half));
    assertThat(response.getRawOutputContents(0).toByteArray())
        .containsExactly(0x00, 0x3c, 0x00, 0x40);
    assertThat(response.getOutputs(0).hasContents()).isFalse();
  }

  private static ModelInferRequest.InferInputTensor.Builder input(
      String name, String datatype, long... shape) {
    ModelInferRequest.InferInputTensor.Builder input =
        ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
    for (long d : shape) {
      input.addShape(d);
    }
    return input;
  }

  private static byte[] le(float... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buffer.putFloat(v);
    }
    return buffer.array();
  }
}
