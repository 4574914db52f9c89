package io.sparserollout.sparsify.engine;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.Sha256;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds every variant's engine into a folder of its name and times them all alike. The result's
 * top-level fields describe the primary variant (the spec's own) against the dense float one.
 */
public final class VariantBuild {
  private VariantBuild() {}

  public static EngineResult build(
      String backend,
      EngineBuilder builder,
      Map<String, Path> variants,
      String primary,
      Path outDir,
      int[] batch,
      int[] sequence) {
    if (!variants.containsKey(primary)) {
      throw new SparsifyException("the primary variant " + primary + " is not among the variants");
    }
    Map<String, EngineBuilder.Built> built = new LinkedHashMap<>();
    variants.forEach(
        (name, model) ->
            built.put(
                name, builder.buildVariant(name, model, outDir.resolve(name), batch, sequence)));
    Map<String, VariantTimer.Runner> runners = new LinkedHashMap<>();
    Map<String, List<EngineResult.Timing>> timings;
    try {
      built.forEach((name, engine) -> runners.put(name, builder.runner(engine)));
      timings = VariantTimer.time(runners, VariantTimer.shapes(batch, sequence));
    } finally {
      runners.values().forEach(VariantTimer.Runner::close);
    }
    List<EngineResult.VariantEngine> engines = new ArrayList<>();
    built.forEach(
        (name, engine) ->
            engines.add(
                new EngineResult.VariantEngine(
                    name, Sha256.of(engine.file()), engine.sparseLayers(), timings.get(name))));
    EngineBuilder.Built main = built.get(primary);
    EngineResult.Timing mainTiming = timings.get(primary).get(0);
    EngineResult.Timing denseTiming =
        timings.entrySet().stream()
            .filter(e -> e.getKey().equals("dense-fp32") || e.getKey().equals("dense-fp16"))
            .map(e -> e.getValue().get(0))
            .findFirst()
            .orElse(null);
    Double denseMs = denseTiming == null ? null : denseTiming.p50Ms();
    return new EngineResult(
        backend,
        io.sparserollout.stage.VariantModel.precisionOf(primary),
        main.runtimeVersion(),
        main.tensorrtVersion(),
        main.gpuProduct(),
        main.sparseLayers(),
        main.file().toString(),
        batch[1],
        sequence[1],
        denseMs,
        mainTiming.p50Ms(),
        denseMs == null ? null : Math.round(denseMs / mainTiming.p50Ms() * 1000) / 1000.0,
        engines.stream().filter(e -> e.name().equals(primary)).findFirst().orElseThrow().sha256(),
        engines);
  }
}
