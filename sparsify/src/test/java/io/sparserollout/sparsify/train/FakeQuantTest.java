package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class FakeQuantTest {
  private static final NodeProto QUERY = NodeProto.newBuilder().setName("q").build();
  private static final NodeProto KEY = NodeProto.newBuilder().setName("k").build();

  private static FakeQuant fakeQuant() {
    return new FakeQuant(
        List.of(layer("q"), layer("k")), Map.of("hidden", 0.5f)); // both read "hidden"
  }

  private static PrunableLayer layer(String node) {
    return new PrunableLayer(node, "MatMul", node + ".weight", "hidden", new long[] {4, 4}, 0);
  }

  @Test
  void activationsAreRoundedToTheirScaleAndClampedToInt8() {
    Tensor hidden = Tensor.create(new float[] {0.26f, -1.1f, 100f, -100f}, 4);
    float[] out = TorchTensors.toFloats(fakeQuant().apply(QUERY, 0, hidden));
    assertThat(out).containsExactly(0.5f, -1.0f, 63.5f, -64f);
  }

  @Test
  void layersReadingOneActivationShareItsQuantizedValueWithinARun() {
    FakeQuant hook = fakeQuant();
    Tensor hidden = Tensor.create(new float[] {0.26f, -1.1f}, 2);
    Tensor forQuery = hook.apply(QUERY, 0, hidden);
    assertThat(hook.apply(KEY, 0, hidden)).isSameAs(forQuery);

    Tensor other = Tensor.create(new float[] {2.2f, 0.1f}, 2); // a new value under the same name
    assertThat(TorchTensors.toFloats(hook.apply(KEY, 0, other))).containsExactly(2.0f, 0.0f);

    hook.forwardEnds();
    assertThat(hook.apply(KEY, 0, hidden)).isNotSameAs(forQuery);
  }

  @Test
  void aConvolutionsWeightIsQuantizedWithOneScalePerOutputChannel() {
    PrunableLayer conv =
        new PrunableLayer("conv", "Conv", "conv.w", "image", new long[] {2, 2, 1, 2}, 1);
    NodeProto node = NodeProto.newBuilder().setName("conv").setOpType("Conv").build();
    // Channel 0's largest |w| is 1.27 (scale 0.01), channel 1's 12.7 (scale 0.1).
    Tensor w =
        Tensor.create(
            new float[] {1.27f, 0.5f, -0.26f, 0.1f, 12.7f, 0.04f, 0.26f, -2f}, 2, 2, 1, 2);

    float[] out = TorchTensors.toFloats(new FakeQuant(List.of(conv), Map.of()).apply(node, 1, w));

    assertThat(out)
        .containsExactly(
            new float[] {1.27f, 0.5f, -0.26f, 0.1f, 12.7f, 0f, 0.3f, -2f},
            org.assertj.core.data.Offset.offset(1e-5f));
  }
}
