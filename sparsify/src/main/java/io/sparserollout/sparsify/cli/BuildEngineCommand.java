package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.engine.EngineBuilder;
import io.sparserollout.sparsify.engine.EngineRequest;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.EngineResult;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = Cli.BUILD_ENGINE,
    description = "Build the serving engine (ONNX Runtime on CPU; TensorRT on GPU) and measure it.")
final class BuildEngineCommand implements Callable<Integer> {
  @Mixin CommandRun run;

  @Option(names = Cli.BACKEND, required = true, description = "onnxruntime or tensorrt")
  String backend;

  @Option(names = Cli.PRECISION, defaultValue = "fp16", description = "fp16 or int8 (TensorRT)")
  String precision;

  @Option(names = Cli.MODEL, required = true, description = "the sparse ONNX model")
  String model;

  @Option(names = Cli.DENSE, required = true, description = "the dense ONNX model (speed baseline)")
  String dense;

  @Option(names = Cli.OUT, required = true, description = "output directory")
  String out;

  @Option(names = Cli.BATCH, defaultValue = "1,8,32", description = "min,opt,max batch")
  String batch;

  @Option(names = Cli.SEQUENCE, defaultValue = "1,128,128", description = "min,opt,max sequence")
  String sequence;

  @Option(
      names = Cli.EXPECT_SHA256,
      description = "refuse a --model whose SHA-256 differs (the digest its stage reported)")
  String expectSha256;

  @Override
  public Integer call() {
    Path input = run.input(model, expectSha256);
    EngineResult result =
        EngineBuilder.forBackend(backend)
            .build(
                new EngineRequest(
                    input,
                    run.input(dense),
                    run.output(out),
                    precision,
                    range(batch, "--batch"),
                    range(sequence, "--sequence")));
    if (out.startsWith("s3://")) {
      result = result.withOutput(out.replaceAll("/+$", "") + "/model.onnx");
    }
    EngineResult built = result;
    run.finish(
        built,
        built,
        console ->
            console.printf(
                "%s %s engine -> %s: %.2f ms vs dense %.2f ms at batch %d x %d tokens (speed-up"
                    + " %.2fx)%n",
                built.backend(),
                built.precision(),
                built.output(),
                built.latencyMs(),
                built.denseLatencyMs(),
                built.batch(),
                built.sequence(),
                built.speedup()));
    return 0;
  }

  private static int[] range(String text, String option) {
    String[] parts = text.split(",");
    try {
      int[] values = {
        Integer.parseInt(parts[0].strip()),
        Integer.parseInt(parts[1].strip()),
        Integer.parseInt(parts[2].strip())
      };
      if (parts.length != 3 || values[0] < 1 || values[0] > values[1] || values[1] > values[2]) {
        throw new NumberFormatException();
      }
      return values;
    } catch (RuntimeException e) {
      throw new SparsifyException(
          option + " takes min,opt,max with 1 <= min <= opt <= max, got " + text);
    }
  }
}
