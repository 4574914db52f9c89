package io.sparserollout.sparsify.quantize;

import java.util.List;

/** What int8 post-training quantization did. */
public record QuantizeReport(
    String output,
    int layersQuantized,
    int activationsCalibrated,
    double percentile,
    int opsetBefore,
    int opsetAfter,
    List<String> skipped,
    double seconds) {}
