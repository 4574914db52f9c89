package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** The model copied to the serving pod's disk. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FetchResult(String out, Long bytes) implements StageResult {}
