package io.sparserollout.sparsify.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.UnknownFieldSet;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.TinyModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
  @TempDir Path dir;

  @Test
  void replacedWeightsSurviveASaveAndLoad() {
    Path file = TinyModels.write(TinyModels.textEncoder(16, 8, 12, 1), dir.resolve("m.onnx"));
    OnnxModel model = OnnxModel.load(file);
    float[] w = model.floats("ffn.up.weight");
    Arrays.fill(w, 0, 10, 0f);

    model.setFloats("ffn.up.weight", w);
    model.putMetadata("k", "v");
    model.save(dir.resolve("out.onnx"));
    OnnxModel reloaded = OnnxModel.load(dir.resolve("out.onnx"));

    assertThat(reloaded.floats("ffn.up.weight")).containsExactly(w);
    assertThat(reloaded.floats("ffn.down.weight")).containsExactly(model.floats("ffn.down.weight"));
    assertThat(reloaded.metadata("k")).hasValue("v");
  }

  @Test
  void fieldsFromNewerOnnxVersionsAreKept() throws Exception {
    ModelProto withUnknown =
        TinyModels.textEncoder(16, 8, 12, 1).toBuilder()
            .setUnknownFields(
                UnknownFieldSet.newBuilder()
                    .addField(999, UnknownFieldSet.Field.newBuilder().addVarint(42).build())
                    .build())
            .build();
    Path file = TinyModels.write(withUnknown, dir.resolve("m.onnx"));

    OnnxModel.load(file).save(dir.resolve("out.onnx"));

    ModelProto saved = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("out.onnx")));
    assertThat(saved.getUnknownFields().getField(999).getVarintList()).containsExactly(42L);
  }

  @Test
  void externalDataIsReadAndWrittenBackAsExternalData() throws Exception {
    float[] values = {1, 2, 3, 4, 5, 6, 7, 8};
    ByteBuffer bytes = ByteBuffer.allocate(64 + 32).order(ByteOrder.LITTLE_ENDIAN);
    bytes.position(64);
    bytes.asFloatBuffer().put(values);
    Files.write(dir.resolve("weights.bin"), bytes.array());
    ModelProto model = TinyModels.textEncoder(16, 8, 12, 1);
    var graph = model.getGraph().toBuilder();
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("big.weight")
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addDims(4)
            .addDims(2)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", "weights.bin"))
            .addExternalData(entry("offset", "64"))
            .addExternalData(entry("length", "32")));
    Path file = TinyModels.write(model.toBuilder().setGraph(graph).build(), dir.resolve("m.onnx"));

    OnnxModel loaded = OnnxModel.load(file);
    assertThat(loaded.floats("big.weight")).containsExactly(values);
    float[] changed = values.clone();
    changed[0] = 0;
    loaded.setFloats("big.weight", changed);
    loaded.save(dir.resolve("out/pruned.onnx"));

    assertThat(dir.resolve("out/pruned.onnx.data")).exists();
    assertThat(OnnxModel.load(dir.resolve("out/pruned.onnx")).floats("big.weight"))
        .containsExactly(changed);
  }

  @Test
  void externalDataOutsideTheModelsFolderIsRefusedEvenThroughASymlink() throws Exception {
    Path secret = Files.write(Files.createTempFile("secret", ".bin"), new byte[64]);
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.createSymbolicLink(models.resolve("weights.bin"), secret);
    for (String location : new String[] {"weights.bin", "../../" + secret, secret.toString()}) {
      ModelProto model = TinyModels.textEncoder(16, 8, 12, 1);
      var graph = model.getGraph().toBuilder();
      graph.addInitializer(
          TensorProto.newBuilder()
              .setName("big.weight")
              .setDataType(TensorProto.DataType.FLOAT_VALUE)
              .addDims(4)
              .addDims(2)
              .setDataLocation(TensorProto.DataLocation.EXTERNAL)
              .addExternalData(entry("location", location)));
      Path file =
          TinyModels.write(model.toBuilder().setGraph(graph).build(), models.resolve("m.onnx"));

      assertThatThrownBy(() -> OnnxModel.load(file).floats("big.weight"))
          .as(location)
          .isInstanceOf(SparsifyException.class)
          .hasMessageContaining("outside the model's directory");
    }
  }

  @Test
  void aTextFileIsNotAnOnnxModel() throws Exception {
    Path file = Files.writeString(dir.resolve("model.onnx"), "definitely not protobuf\n");

    assertThatThrownBy(() -> OnnxModel.load(file))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("is not an ONNX model");
  }

  @Test
  void aTruncatedModelIsReported() throws Exception {
    byte[] whole = TinyModels.textEncoder(16, 8, 12, 1).toByteArray();
    Path file = Files.write(dir.resolve("cut.onnx"), Arrays.copyOf(whole, whole.length / 2));

    assertThatThrownBy(() -> OnnxModel.load(file))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("truncated");
  }

  @Test
  void aMissingFileIsReported() {
    assertThatThrownBy(() -> OnnxModel.load(dir.resolve("nope.onnx")))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("not found");
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }
}
