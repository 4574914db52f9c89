package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** Chooses GPU nodes by the labels GPU Feature Discovery puts on them. */
public record GpuSelector(
    @JsonPropertyDescription(
            "Value of the nvidia.com/gpu.product node label, e.g. NVIDIA-A100-SXM4-80GB. An engine"
                + " only runs on the GPU model it was built on. Empty: the operator picks one"
                + " product among qualifying nodes and records it in status.")
        String product,
    @Default("8.0")
        @Pattern("^[0-9]+\\.[0-9]+$")
        @JsonPropertyDescription(
            "Lowest compute capability (nvidia.com/gpu.compute.major.minor) accepted. Sparse"
                + " Tensor Cores need 8.0 (Ampere) or newer.")
        String minComputeCapability,
    @Pattern("^[0-9]+g\\.[0-9]+gb$")
        @JsonPropertyDescription(
            "MIG profile to request instead of a whole GPU, e.g. 1g.10gb (resource"
                + " nvidia.com/mig-1g.10gb).")
        String migProfile) {}
