package io.sparserollout.sparsify.engine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.sparsify.quantize.QuantizeRun;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.sparsify.verify.Verifier;
import io.sparserollout.stage.EngineResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

/**
 * The CPU engine: ONNX Runtime's optimized graph of the model, saved so that serving pods skip the
 * optimization at start, and its latency against the dense model at the optimal shape.
 */
final class OnnxRuntimeEngineBuilder implements EngineBuilder {
  private static final int WARMUP = 2;
  private static final int RUNS = 7;

  @Override
  public EngineResult build(EngineRequest request) {
    Path out = optimize(request.model(), request.outDir());
    OnnxModel model = OnnxModel.load(request.model());
    int batch = request.batch()[1];
    int sequence = request.sequence()[1];
    Batch probe = syntheticBatch(model, batch, sequence);
    double dense = medianLatencyMs(request.dense(), probe);
    double sparse = medianLatencyMs(out, probe);
    boolean int8 = model.metadata(QuantizeRun.METADATA_KEY).isPresent();
    return new EngineResult(
        "onnxruntime",
        int8 ? "int8" : "fp32",
        OrtEnvironment.getEnvironment().getVersion(),
        null,
        null,
        Verifier.verify(model).sparseLayers(),
        out.toString(),
        batch,
        sequence,
        round(dense),
        round(sparse),
        round(dense / sparse),
        io.sparserollout.stage.Sha256.of(out),
        null);
  }

  @Override
  public Built buildVariant(String name, Path model, Path outDir, int[] batch, int[] sequence) {
    OnnxModel onnx = OnnxModel.load(model);
    boolean int8 = onnx.metadata(QuantizeRun.METADATA_KEY).isPresent();
    int sparseLayers = Verifier.verify(onnx).sparseLayers();
    boolean sparse = name.startsWith(io.sparserollout.stage.VariantModel.SPARSE);
    if (int8 != name.endsWith("-int8") || sparse != sparseLayers > 0) {
      throw new SparsifyException(
          "variant "
              + name
              + " is "
              + (sparseLayers > 0 ? "a 2:4 sparse" : "a dense")
              + (int8 ? " int8" : " float")
              + " model: "
              + model);
    }
    return new Built(
        name,
        model,
        optimize(model, outDir),
        sparseLayers,
        OrtEnvironment.getEnvironment().getVersion(),
        null,
        null);
  }

  @Override
  public VariantTimer.Runner runner(Built built) {
    OrtModel ort = OrtModel.open(built.file(), Runtime.getRuntime().availableProcessors());
    OnnxModel model = OnnxModel.load(built.model());
    Set<String> output = Set.of(ort.firstOutput());
    java.util.Map<Long, Batch> inputs = new java.util.HashMap<>();
    return new VariantTimer.Runner() {
      @Override
      public void run(int batch, int sequence) {
        ort.run(
            inputs.computeIfAbsent(
                ((long) batch << 32) | sequence, k -> syntheticBatch(model, batch, sequence)),
            output);
      }

      @Override
      public void close() {
        ort.close();
      }
    };
  }

  /**
   * ONNX Runtime's optimized graph of the model, saved as model.onnx in {@code outDir} so that
   * serving pods skip the optimization at start.
   */
  private static Path optimize(Path model, Path outDir) {
    Path out = outDir.resolve("model.onnx");
    try {
      Files.createDirectories(outDir);
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      // Extended, not all: layout optimizations of the full level are specific to this CPU, and
      // the engine is served on other nodes.
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      options.setOptimizedModelFilePath(out.toString());
      OrtEnvironment.getEnvironment().createSession(model.toString(), options).close();
      return out;
    } catch (OrtException e) {
      throw new SparsifyException(
          "ONNX Runtime cannot optimize " + model + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new SparsifyException("cannot write to " + outDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Inputs of the shape timed: token ids for a text model; for a model of tensors (no input_ids),
   * each declared input with the batch first, its fixed dimensions as declared and every other
   * dimension (an image's height and width) {@code length} long, floats drawn at random.
   */
  private static Batch syntheticBatch(OnnxModel model, int size, int length) {
    var inputs = model.proto().getGraph().getInputList();
    if (inputs.stream().anyMatch(i -> i.getName().equals("input_ids"))) {
      return syntheticTokens(model, size, length);
    }
    java.util.Map<String, TensorBatch.Input> tensors = new java.util.LinkedHashMap<>();
    for (ai.onnx.proto.OnnxMl.ValueInfoProto input : inputs) {
      if (model.initializer(input.getName()).isEmpty()) {
        tensors.put(input.getName(), syntheticTensor(input, size, length));
      }
    }
    return new TensorBatch(size, tensors);
  }

  private static TensorBatch.Input syntheticTensor(
      ai.onnx.proto.OnnxMl.ValueInfoProto input, int size, int length) {
    var type = input.getType().getTensorType();
    if (!type.hasShape() || type.getShape().getDimCount() == 0) {
      throw new SparsifyException(
          "cannot time the model: its input "
              + input.getName()
              + " declares no shape, so no input of the served shape can be made; export it with"
              + " its dimensions (the batch first)");
    }
    long[] shape = new long[type.getShape().getDimCount()];
    long elements = 1;
    for (int d = 0; d < shape.length; d++) {
      long fixed = type.getShape().getDim(d).getDimValue();
      shape[d] = fixed > 0 ? fixed : d == 0 ? size : length;
      elements *= shape[d];
    }
    if (elements > (1 << 27)) { // 512 MB of floats per input
      throw new SparsifyException(
          "cannot time the model: its input "
              + input.getName()
              + " at batch "
              + size
              + " and "
              + length
              + " for every other dynamic dimension is "
              + Arrays.toString(shape)
              + ", too large to make; lower spec.engine.shapes");
    }
    int count = (int) elements;
    Random random = new Random(42);
    switch (type.getElemType()) {
      case ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE -> {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
          values[i] = (float) random.nextGaussian();
        }
        return new TensorBatch.Input(shape, java.nio.FloatBuffer.wrap(values));
      }
      case ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE -> {
        return new TensorBatch.Input(shape, java.nio.LongBuffer.wrap(new long[count]));
      }
      case ai.onnx.proto.OnnxMl.TensorProto.DataType.INT32_VALUE -> {
        return new TensorBatch.Input(shape, java.nio.IntBuffer.wrap(new int[count]));
      }
      default ->
          throw new SparsifyException(
              "cannot time the model: its input "
                  + input.getName()
                  + " is of ONNX type "
                  + type.getElemType()
                  + "; float, int64 and int32 inputs are built");
    }
  }

  /** Token ids drawn from the model's vocabulary, all real (no padding). */
  private static TokenBatch syntheticTokens(OnnxModel model, int size, int length) {
    long vocabulary = Vocabulary.size(model).orElse(1000);
    Random random = new Random(42);
    long[] ids = new long[size * length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1 + random.nextLong(Math.max(1, vocabulary - 1));
    }
    long[] mask = new long[ids.length];
    Arrays.fill(mask, 1);
    return new TokenBatch(size, length, ids, mask, new long[ids.length]);
  }

  private static double medianLatencyMs(Path model, Batch batch) {
    try (OrtModel ort = OrtModel.open(model, Runtime.getRuntime().availableProcessors())) {
      Set<String> output = Set.of(ort.firstOutput());
      double[] times = new double[RUNS];
      for (int i = 0; i < WARMUP + RUNS; i++) {
        long start = System.nanoTime();
        ort.run(batch, output);
        if (i >= WARMUP) {
          times[i - WARMUP] = (System.nanoTime() - start) / 1e6;
        }
      }
      Arrays.sort(times);
      return times[RUNS / 2];
    }
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
