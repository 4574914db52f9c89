package io.sparserollout.tensorrt;

import static org.bytedeco.tensorrt.global.nvinfer.createInferBuilder;
import static org.bytedeco.tensorrt.global.nvonnxparser.createParser;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.ProfilingVerbosity;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvonnxparser.IParser;

/**
 * Builds a TensorRT plan from an ONNX model with sparse weights enabled (kSPARSE_WEIGHTS) and FP16
 * or INT8 (explicit Q/DQ in the model), one optimization profile from the shape ranges, detailed
 * profiling so the engine inspector can report every layer. Not yet verified on a GPU.
 */
public final class PlanBuilder {
  private PlanBuilder() {}

  /** A built plan with the reports that prove (or disprove) sparse tactics. */
  public record Built(
      byte[] plan,
      String layersJson,
      SparseLayers sparseLayers,
      String tensorrtVersion,
      TensorRt.Device device) {}

  /**
   * @param precision fp16, or int8 for a model with Q/DQ nodes (FP16 stays enabled for the layers
   *     that are not quantized)
   * @param sparse false builds the dense reference engine of the same model
   */
  public static Built build(
      Path onnx, String precision, boolean sparse, int[] batch, int[] sequence) {
    TensorRt.Device device = TensorRt.device();
    TensorRt.CapturingLogger logger = new TensorRt.CapturingLogger();
    try (IBuilder builder = createInferBuilder(logger);
        INetworkDefinition network = builder.createNetworkV2(0);
        IParser parser = createParser(network, logger);
        IBuilderConfig config = builder.createBuilderConfig()) {
      if (!parser.parseFromFile(onnx.toString(), 2 /* kWARNING */)) {
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < parser.getNbErrors(); i++) {
          var error = parser.getError(i);
          errors.add(
              "node "
                  + error.node()
                  + " ("
                  + error.nodeName()
                  + ", "
                  + error.nodeOperator()
                  + "): "
                  + error.desc());
        }
        throw new IllegalArgumentException(
            "TensorRT cannot parse " + onnx + ": " + String.join("; ", errors));
      }
      if (sparse) {
        config.setFlag(BuilderFlag.kSPARSE_WEIGHTS);
      }
      config.setFlag(BuilderFlag.kFP16);
      if ("int8".equals(precision)) {
        config.setFlag(BuilderFlag.kINT8);
      } else if (!"fp16".equals(precision)) {
        throw new IllegalArgumentException("precision " + precision + ": use fp16 or int8");
      }
      config.setProfilingVerbosity(ProfilingVerbosity.kDETAILED);
      IOptimizationProfile profile = builder.createOptimizationProfile();
      for (ShapeRange range : ShapeRange.profile(inputs(network), batch, sequence)) {
        profile.setDimensions(range.input(), OptProfileSelector.kMIN, dims(range.min()));
        profile.setDimensions(range.input(), OptProfileSelector.kOPT, dims(range.opt()));
        profile.setDimensions(range.input(), OptProfileSelector.kMAX, dims(range.max()));
      }
      config.addOptimizationProfile(profile);
      try (IHostMemory plan = builder.buildSerializedNetwork(network, config)) {
        if (plan == null || plan.isNull()) {
          throw new IllegalStateException(
              "TensorRT could not build the engine: " + logger.errors());
        }
        byte[] bytes = new byte[(int) plan.size()];
        new BytePointer(plan.data()).capacity(plan.size()).get(bytes);
        return new Built(
            bytes,
            PlanRunner.inspect(bytes, logger),
            SparseLayers.fromBuilderLog(logger.messages()),
            TensorRt.libraryVersion(),
            device);
      }
    }
  }

  private static Map<String, long[]> inputs(INetworkDefinition network) {
    Map<String, long[]> inputs = new LinkedHashMap<>();
    for (int i = 0; i < network.getNbInputs(); i++) {
      ITensor input = network.getInput(i);
      Dims64 dims = input.getDimensions();
      long[] shape = new long[dims.nbDims()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = dims.d(d);
      }
      inputs.put(input.getName(), shape);
    }
    return inputs;
  }

  static Dims64 dims(long[] shape) {
    Dims64 dims = new Dims64().nbDims(shape.length);
    for (int d = 0; d < shape.length; d++) {
      dims.d(d, shape[d]);
    }
    return dims;
  }
}
