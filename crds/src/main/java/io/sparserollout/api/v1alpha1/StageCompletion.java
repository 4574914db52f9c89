package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A stage of the current revision whose result was read into status. It is never judged again, so
 * garbage-collected pods (PodGC, node scale-down, clean-up tools) cannot fail a finished stage.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StageCompletion(
    @JsonPropertyDescription("Stage: prune, finetune, quantize, engine or evaluate.") String stage,
    @JsonPropertyDescription("The stage Job that completed.") String job,
    @JsonPropertyDescription("That Job's UID.") String jobUid,
    @JsonPropertyDescription("When its result was read, RFC 3339.") String time,
    @JsonPropertyDescription(
            "SHA-256 of the model the stage wrote, as it reported it: the next stage and the serving"
                + " pods refuse a file whose digest differs.")
        String sha256) {}
