package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** Chooses GPU nodes by the labels GPU Feature Discovery puts on them. */
public record GpuSelector(
    @JsonPropertyDescription(
            "Value of the nvidia.com/gpu.product node label, e.g. NVIDIA-A100-SXM4-80GB; nodes"
                + " whose label adds GPU Feature Discovery's -MIG-<profile> (MIG single"
                + " strategy) or -SHARED (time-slicing) match too. An engine only runs on the GPU"
                + " model it was built on. Empty: the operator picks one product among qualifying"
                + " nodes and records its node label in status.")
        String product,
    @Default("8.0")
        @Pattern("^[0-9]+\\.[0-9]+$")
        @JsonPropertyDescription(
            "Lowest compute capability (nvidia.com/gpu.compute.major.minor) accepted. Sparse"
                + " Tensor Cores need 8.0 (Ampere) or newer.")
        String minComputeCapability,
    @Pattern("^[0-9]+g\\.[0-9]+gb$")
        @JsonPropertyDescription(
            "MIG profile to request instead of a whole GPU, e.g. 1g.10gb: the resource"
                + " nvidia.com/mig-1g.10gb (the device plugin's mixed MIG strategy), or"
                + " nvidia.com/gpu on nodes whose product label ends in -MIG-1g.10gb (single"
                + " strategy).")
        String migProfile) {}
