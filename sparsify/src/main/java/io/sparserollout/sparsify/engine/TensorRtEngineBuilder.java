package io.sparserollout.sparsify.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.Vocabulary;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.tensorrt.EngineKey;
import io.sparserollout.tensorrt.PlanBuilder;
import io.sparserollout.tensorrt.PlanRunner;
import io.sparserollout.tensorrt.TensorRtUnavailable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * TensorRT sparse engines (kSPARSE_WEIGHTS with FP16 or INT8), built on the GPU product that serves
 * them, beside a dense engine of the source model for the speed comparison. Writes the plan, the
 * inspector's per-layer report, the layers that got sparse tactics and the engine key. Not yet
 * verified on a GPU.
 */
final class TensorRtEngineBuilder implements EngineBuilder {
  static final String PLAN = "model.plan";
  private static final int WARMUP = 10;
  private static final int RUNS = 50;

  @Override
  public EngineResult build(EngineRequest request) {
    try {
      PlanBuilder.Built sparse =
          PlanBuilder.build(
              request.model(), request.precision(), true, request.batch(), request.sequence());
      PlanBuilder.Built dense =
          PlanBuilder.build(request.dense(), "fp16", false, request.batch(), request.sequence());
      Path plan = writePlan(sparse, request.model(), request.precision(), request.outDir());
      int batch = request.batch()[1];
      int sequence = request.sequence()[1];
      Random random = new Random(42);
      long vocabulary = Vocabulary.size(OnnxModel.load(request.model())).orElse(1000);
      double denseMs = medianLatencyMs(dense.plan(), batch, sequence, vocabulary, random);
      double sparseMs = medianLatencyMs(sparse.plan(), batch, sequence, vocabulary, random);
      return new EngineResult(
          "tensorrt",
          request.precision(),
          sparse.tensorrtVersion(),
          sparse.tensorrtVersion(),
          sparse.device().product(),
          sparse.sparseLayers().picked().size(),
          plan.toString(),
          batch,
          sequence,
          round(denseMs),
          round(sparseMs),
          round(denseMs / sparseMs),
          io.sparserollout.stage.Sha256.of(plan),
          null);
    } catch (TensorRtUnavailable e) {
      throw new SparsifyException(
          "the tensorrt backend "
              + e.getMessage()
              + ": schedule the engine stage on a GPU node or use backend onnxruntime",
          e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SparsifyException(e.getMessage(), e);
    } catch (IOException e) {
      throw new SparsifyException("cannot write to " + request.outDir() + ": " + e.getMessage(), e);
    }
  }

  /**
   * A variant's plan: sparse tactics for sparse-* names, INT8 for *-int8 (the model must carry Q/DQ
   * nodes), with the inspector's reports beside it.
   */
  @Override
  public Built buildVariant(String name, Path model, Path outDir, int[] batch, int[] sequence) {
    String precision = io.sparserollout.stage.VariantModel.precisionOf(name);
    if (!precision.equals("fp16") && !precision.equals("int8")) {
      throw new SparsifyException(
          "variant " + name + ": TensorRT variants are fp16 or int8, not " + precision);
    }
    boolean sparse = name.startsWith(io.sparserollout.stage.VariantModel.SPARSE);
    try {
      PlanBuilder.Built built = PlanBuilder.build(model, precision, sparse, batch, sequence);
      Path plan = writePlan(built, model, precision, outDir);
      return new Built(
          name,
          model,
          plan,
          built.sparseLayers().picked().size(),
          built.tensorrtVersion(),
          built.tensorrtVersion(),
          built.device().product());
    } catch (TensorRtUnavailable e) {
      throw new SparsifyException(
          "the tensorrt backend "
              + e.getMessage()
              + ": schedule the engine stage on a GPU node or use backend onnxruntime",
          e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SparsifyException("variant " + name + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new SparsifyException("cannot write to " + outDir + ": " + e.getMessage(), e);
    }
  }

  /** The plan, the inspector's per-layer report, the sparse-tactic layers and the engine key. */
  private static Path writePlan(PlanBuilder.Built built, Path model, String precision, Path outDir)
      throws IOException {
    Files.createDirectories(outDir);
    Path plan = Files.write(outDir.resolve(PLAN), built.plan());
    Files.writeString(outDir.resolve("layers.json"), built.layersJson());
    ObjectMapper json = new ObjectMapper();
    json.writerWithDefaultPrettyPrinter()
        .writeValue(outDir.resolve("sparse-layers.json").toFile(), built.sparseLayers());
    json.writerWithDefaultPrettyPrinter()
        .writeValue(
            EngineKey.fileFor(plan).toFile(),
            new EngineKey(
                EngineKey.sha256(model),
                "tensorrt",
                precision,
                built.tensorrtVersion(),
                built.device().product()));
    return plan;
  }

  @Override
  public VariantTimer.Runner runner(Built built) {
    byte[] plan;
    try {
      plan = Files.readAllBytes(built.file());
    } catch (IOException e) {
      throw new SparsifyException("cannot read " + built.file() + ": " + e.getMessage(), e);
    }
    long vocabulary = Vocabulary.size(OnnxModel.load(built.model())).orElse(1000);
    PlanRunner runner = new PlanRunner(plan);
    Map<Long, Map<String, PlanRunner.HostTensor>> inputs = new java.util.HashMap<>();
    Random random = new Random(42);
    return new VariantTimer.Runner() {
      @Override
      public void run(int batch, int sequence) {
        runner.run(
            inputs.computeIfAbsent(
                ((long) batch << 32) | sequence,
                k -> {
                  Map<String, PlanRunner.HostTensor> tensors = new LinkedHashMap<>();
                  for (PlanRunner.Io io : runner.tensors()) {
                    if (io.input()) {
                      tensors.put(
                          io.name(), syntheticInput(io, batch, sequence, vocabulary, random));
                    }
                  }
                  return tensors;
                }));
      }

      @Override
      public void close() {
        runner.close();
      }
    };
  }

  /** Median latency at the optimal shape, token ids drawn from the vocabulary, no padding. */
  private static double medianLatencyMs(
      byte[] plan, int batch, int sequence, long vocabulary, Random random) {
    try (PlanRunner runner = new PlanRunner(plan)) {
      Map<String, PlanRunner.HostTensor> inputs = new LinkedHashMap<>();
      for (PlanRunner.Io io : runner.tensors()) {
        if (io.input()) {
          inputs.put(io.name(), syntheticInput(io, batch, sequence, vocabulary, random));
        }
      }
      double[] times = new double[RUNS];
      for (int i = 0; i < WARMUP + RUNS; i++) {
        long start = System.nanoTime();
        runner.run(inputs);
        if (i >= WARMUP) {
          times[i - WARMUP] = (System.nanoTime() - start) / 1e6;
        }
      }
      Arrays.sort(times);
      return times[RUNS / 2];
    }
  }

  private static PlanRunner.HostTensor syntheticInput(
      PlanRunner.Io io, int batch, int sequence, long vocabulary, Random random) {
    long[] shape = io.shape().clone();
    for (int axis = 0; axis < shape.length; axis++) {
      if (shape[axis] < 0) {
        shape[axis] = axis == 0 ? batch : sequence;
      }
    }
    int elements = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    int width = PlanRunner.width(io.datatype());
    ByteBuffer data = ByteBuffer.allocate(elements * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      long token =
          io.name().contains("mask")
              ? 1
              : io.name().contains("type") ? 0 : 1 + random.nextLong(vocabulary - 1);
      switch (io.datatype()) {
        case "kINT64" -> data.putLong(token);
        case "kINT32" -> data.putInt((int) token);
        case "kFLOAT" -> data.putFloat((float) random.nextGaussian());
        case "kHALF" -> data.putShort((short) 0x3C00); // 1.0
        default -> data.put((byte) token);
      }
    }
    return new PlanRunner.HostTensor(shape, data.array());
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
