package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.engine.EngineBuilder;
import io.sparserollout.sparsify.engine.EngineRequest;
import io.sparserollout.sparsify.engine.VariantBuild;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.SpeedRatio;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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

  @Option(
      names = Cli.VARIANT,
      description =
          "name=model: build and time this variant too, in a folder of its name under --out"
              + " (dense-fp32, sparse-int8...); --model must be one of them")
  Map<String, String> variants;

  @Option(
      names = Cli.VARIANT_SHA256,
      description = "name=sha256: refuse a variant's model whose SHA-256 differs")
  Map<String, String> variantSha256;

  @Override
  public Integer call() {
    EngineResult result = variants == null ? single() : allVariants();
    if (out.startsWith("s3://") && variants == null) {
      result = result.withOutput(out.replaceAll("/+$", "") + "/model.onnx");
    }
    EngineResult built = result;
    run.finish(
        built,
        built,
        console -> {
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
              built.speedup());
          if (built.variants() != null) {
            var dense =
                built.variants().stream()
                    .filter(v -> v.name().equals("dense-fp32") || v.name().equals("dense-fp16"))
                    .findFirst();
            for (var variant : built.variants()) {
              for (int shape = 0; shape < variant.timings().size(); shape++) {
                var t = variant.timings().get(shape);
                int index = shape;
                var reference =
                    dense.filter(d -> d.timings().size() > index).map(d -> d.timings().get(index));
                var speedup =
                    reference.map(
                        d ->
                            SpeedRatio.of(
                                t.perSecond(),
                                t.perSecondByRepetition(),
                                d.perSecond(),
                                d.perSecondByRepetition()));
                console.printf(
                    "  %-12s batch %3d x %4d: %8.1f/s  p50 %8.2f ms  p99 %8.2f ms  spread %.3f%s%n",
                    variant.name(),
                    t.batch(),
                    t.sequence(),
                    t.perSecond(),
                    t.p50Ms(),
                    t.p99Ms(),
                    t.spread(),
                    speedup.map(r -> "  " + r.describe() + " dense").orElse(""));
              }
            }
          }
        });
    return 0;
  }

  /** Every variant in a folder of its name; the one --model names is the primary. */
  private EngineResult allVariants() {
    Map<String, Path> inputs = new LinkedHashMap<>();
    String primary = null;
    for (var entry : variants.entrySet()) {
      String name = entry.getKey();
      if (!name.matches("(dense|sparse)-(fp32|fp16|int8)")) {
        throw new SparsifyException(
            "variant name " + name + ": use dense- or sparse- then fp32, fp16 or int8");
      }
      String sha = variantSha256 == null ? null : variantSha256.get(name);
      inputs.put(name, run.input(entry.getValue(), sha));
      if (entry.getValue().equals(model)) {
        primary = name;
      }
    }
    if (primary == null) {
      throw new SparsifyException("--model " + model + " is none of the --variant models");
    }
    String mismatch = io.sparserollout.stage.Sha256.mismatch(inputs.get(primary), expectSha256);
    if (mismatch != null) {
      throw new SparsifyException(mismatch);
    }
    EngineResult built =
        VariantBuild.build(
            backend,
            EngineBuilder.forBackend(backend),
            inputs,
            primary,
            run.output(out),
            range(batch, "--batch"),
            range(sequence, "--sequence"));
    String file = java.nio.file.Path.of(built.output()).getFileName().toString();
    return built.withOutput(out.replaceAll("/+$", "") + "/" + primary + "/" + file);
  }

  private EngineResult single() {
    Path input = run.input(model, expectSha256);
    return EngineBuilder.forBackend(backend)
        .build(
            new EngineRequest(
                input,
                run.input(dense),
                run.output(out),
                precision,
                range(batch, "--batch"),
                range(sequence, "--sequence")));
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
