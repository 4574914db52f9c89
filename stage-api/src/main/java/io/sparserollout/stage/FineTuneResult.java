package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** What sparse fine-tuning did: steps taken and held-out fidelity before and after. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FineTuneResult(
    String output,
    String start,
    Integer steps,
    Double initialFidelity,
    Double finalFidelity,
    Double seconds,
    String sha256)
    implements StageResult {}
