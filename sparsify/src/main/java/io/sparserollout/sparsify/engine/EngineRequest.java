package io.sparserollout.sparsify.engine;

import java.nio.file.Path;

/**
 * What to build: the (sparse, maybe quantized) model, its dense original for the speed comparison,
 * where to write, and the shape ranges (min, opt, max) to optimize for.
 */
public record EngineRequest(
    Path model, Path dense, Path outDir, String precision, int[] batch, int[] sequence) {}
