package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** What int8 post-training quantization did; {@code skipped} holds the first few. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record QuantizeResult(
    String output,
    Integer layersQuantized,
    Integer activationsCalibrated,
    Double percentile,
    Integer opsetBefore,
    Integer opsetAfter,
    List<String> skipped,
    Double seconds,
    String sha256,
    CapturedData captured)
    implements StageResult {}
