package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/**
 * Desired state of a SparseModel. Records keep it immutable: the operator never writes spec, so
 * GitOps tools see no drift. Defaults live in the CRD schema; nested objects default to {@code {}}
 * so that the API server fills in their own defaults too.
 */
@JsonClassDescription(
    "Desired state: the dense model, the pruning recipe, the accuracy gate and the rollout.")
public record SparseModelSpec(
    @Required
        @JsonPropertyDescription("The dense model to start from and how to tokenize its input.")
        ModelSource source,
    @Required
        @JsonPropertyDescription(
            "Where every stage reads its input and writes its output (pruned model, engine,"
                + " reports).")
        ArtifactStore artifactStore,
    @Default("{}") @JsonPropertyDescription("How the dense weights are pruned to 2:4 sparsity.")
        SparsitySpec sparsity,
    @Default("{}")
        @JsonPropertyDescription("Optional int8 quantization of the sparse model (PTQ or QAT).")
        QuantizationSpec quantization,
    @Default("{}")
        @JsonPropertyDescription(
            "Budget and resources for sparse fine-tuning and QAT; used when sparsity.method is"
                + " finetune or quantization.mode is int8-qat.")
        FineTuningSpec fineTuning,
    @Default("{}")
        @JsonPropertyDescription("The inference engine built from the sparse model, and where.")
        EngineSpec engine,
    @Default("{}")
        @JsonPropertyDescription("The data the sparse model is compared with the dense one on.")
        EvaluationSpec evaluation,
    @Default("{}")
        @JsonPropertyDescription(
            "The accuracy gate the sparse model must pass before anything serves it.")
        GateSpec gate,
    @Default("{}")
        @JsonPropertyDescription(
            "Which measured variant is served: the fastest that passes the gate (default) or a"
                + " pinned one.")
        SelectionSpec selection,
    @Default("{}")
        @JsonPropertyDescription("How the gated model is served and rolled out by canary.")
        RolloutSpec rollout) {}
