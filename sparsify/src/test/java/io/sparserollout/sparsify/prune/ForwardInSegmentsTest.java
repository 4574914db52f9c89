package io.sparserollout.sparsify.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sparserollout.sparsify.EncoderModels;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForwardInSegmentsTest {
  @TempDir Path dir;

  /**
   * The promise SparseGPT relies on: each layer group's input, computed a segment at a time, is
   * what the whole model computes with the weights as they are at that moment, including the
   * weights of the groups pruned before it.
   */
  @Test
  void eachGroupsInputIsWhatTheWholeModelComputesWithTheEarlierGroupsPruned() {
    OnnxModel model =
        OnnxModel.load(
            TinyModels.write(EncoderModels.bert(2, 32, 4, 64, 100, 5), dir.resolve("m.onnx")));
    List<TokenBatch> batches = List.of(batch(new Random(1), 3, 7), batch(new Random(2), 2, 5));
    Map<String, List<PrunableLayer>> groups = new LinkedHashMap<>();
    for (PrunableLayer layer : LayerFinder.all().find(model).prunable()) {
      groups.computeIfAbsent(layer.input(), i -> new ArrayList<>()).add(layer);
    }
    assertThat(groups).hasSize(8);

    try (ForwardInSegments forward = new ForwardInSegments(model, batches, 1)) {
      List<String> order =
          groups.keySet().stream().sorted(Comparator.comparingInt(forward::position)).toList();
      for (String activation : order) {
        List<float[]> segmented = new ArrayList<>();
        forward.forEach(activation, (batch, x) -> segmented.add(x.data()));
        try (OrtModel whole = OrtModel.openForCapture(model.toBytes(List.of(activation)), 1)) {
          for (int b = 0; b < batches.size(); b++) {
            float[] expected = whole.run(batches.get(b), Set.of(activation)).get(activation).data();
            assertThat(segmented.get(b)).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) {
              assertThat(segmented.get(b)[i]).isCloseTo(expected[i], within(1e-4f));
            }
          }
        }
        new MagnitudePruner().prune(model, groups.get(activation));
      }
    }
  }

  @Test
  void aModelWithExternalDataCalibratesFromTheWeightsInItsDataFile() throws Exception {
    ModelProto inline = EncoderModels.bert(1, 32, 4, 64, 100, 5);
    OnnxModel reference = OnnxModel.load(TinyModels.write(inline, dir.resolve("inline.onnx")));
    GraphProto.Builder graph = inline.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto weight = graph.getInitializer(i);
      if (weight.getName().equals("l0.up.weight")) {
        Files.write(dir.resolve("weights.bin"), weight.getRawData().toByteArray());
        graph.setInitializer(
            i,
            weight.toBuilder()
                .clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", "weights.bin"))
                .addExternalData(entry("offset", "0")));
      }
    }
    OnnxModel external =
        OnnxModel.load(
            TinyModels.write(inline.toBuilder().setGraph(graph).build(), dir.resolve("x.onnx")));
    List<TokenBatch> batches = List.of(batch(new Random(3), 2, 6));

    List<float[]> expected = new ArrayList<>();
    List<float[]> actual = new ArrayList<>();
    try (ForwardInSegments forward = new ForwardInSegments(reference, batches, 1)) {
      forward.forEach("l0.gelu", (batch, x) -> expected.add(x.data()));
    }
    try (ForwardInSegments forward = new ForwardInSegments(external, batches, 1)) {
      forward.forEach("l0.gelu", (batch, x) -> actual.add(x.data()));
    }
    assertThat(actual.get(0)).containsExactly(expected.get(0));
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  /** Random ids, the second sentence shorter (padded), as the tokenizer batches them. */
  private static TokenBatch batch(Random random, int size, int length) {
    long[] ids = new long[size * length];
    long[] mask = new long[size * length];
    for (int s = 0; s < size; s++) {
      int real = s == 1 ? length - 2 : length;
      for (int t = 0; t < real; t++) {
        ids[s * length + t] = 1 + random.nextInt(99);
        mask[s * length + t] = 1;
      }
    }
    return new TokenBatch(size, length, ids, mask, new long[size * length]);
  }
}
