package io.sparserollout.tensorrt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One input's dimensions in a TensorRT optimization profile. The first dynamic axis is the batch;
 * every other dynamic axis (an encoder's sequence, an image's height and width) takes the sequence
 * range, as the spec's shapes and the ONNX Runtime path have it.
 */
public record ShapeRange(String input, long[] min, long[] opt, long[] max) {

  /**
   * @param inputs each input's dimensions as the ONNX model declares them, -1 where dynamic
   * @param batch min, opt, max batch
   * @param sequence min, opt, max sequence length
   */
  public static List<ShapeRange> profile(Map<String, long[]> inputs, int[] batch, int[] sequence) {
    List<ShapeRange> ranges = new ArrayList<>();
    for (Map.Entry<String, long[]> input : inputs.entrySet()) {
      long[] dims = input.getValue();
      long[][] chosen = {dims.clone(), dims.clone(), dims.clone()};
      for (int axis = 0; axis < dims.length; axis++) {
        if (dims[axis] >= 0) {
          continue;
        }
        int[] range = axis == 0 ? batch : sequence;
        for (int selector = 0; selector < 3; selector++) {
          chosen[selector][axis] = range[selector];
        }
      }
      ranges.add(new ShapeRange(input.getKey(), chosen[0], chosen[1], chosen[2]));
    }
    return ranges;
  }
}
