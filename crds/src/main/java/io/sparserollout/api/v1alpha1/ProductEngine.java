package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/**
 * The engines built again on one more GPU product: a TensorRT plan runs only on the product it was
 * built on, so serving pods on that product load these.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProductEngine(
    @JsonPropertyDescription("The nvidia.com/gpu.product node label they were built on.")
        String gpuProduct,
    @JsonPropertyDescription(
            "URI of the folder of this product's engines, one folder per variant; empty until its"
                + " engine Job reports.")
        String artifactUri,
    @JsonPropertyDescription("SHA-256 of the plan of the spec's own variant.") String sha256,
    @JsonPropertyDescription("Each variant's plan and its speed-up on this product.")
        List<Variant> variants,
    @JsonPropertyDescription(
            "Why the engine Job failed on this product, which then serves nothing; the other"
                + " products serve on.")
        String failure) {

  /** A product whose engine Job has not reported yet. */
  public static ProductEngine pending(String gpuProduct) {
    return new ProductEngine(gpuProduct, null, null, null, null);
  }

  /** Whether its engine Job reported: built, or failed. */
  public boolean reported() {
    return artifactUri != null || failure != null;
  }

  /** A product whose engine Job failed: it serves nothing. */
  public static ProductEngine failed(String gpuProduct, String failure) {
    return new ProductEngine(gpuProduct, null, null, null, failure);
  }

  /** One variant's plan on the product, and its speed against the dense float variant there. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Variant(
      @JsonPropertyDescription("The variant, as in status.variants.") String name,
      @JsonPropertyDescription("SHA-256 of its plan built on this product.") String sha256,
      @JsonPropertyDescription("Its speed-up over the dense float variant on this product.")
          Double speedup,
      @JsonPropertyDescription("Lower end of the speed-up's 95% interval.") Double speedupLow,
      @JsonPropertyDescription("Upper end of the speed-up's 95% interval.") Double speedupHigh) {}

  /**
   * The plan of {@code variant} (null: the spec's own) and its digest; null when none was built.
   */
  public Plan plan(String variant) {
    if (failure != null) {
      return null;
    }
    if (variant == null) {
      return artifactUri == null ? null : new Plan(artifactUri + "/model.plan", sha256);
    }
    return variants == null
        ? null
        : variants.stream()
            .filter(v -> variant.equals(v.name()) && v.sha256() != null)
            .findFirst()
            .map(v -> new Plan(artifactUri + "/" + variant + "/model.plan", v.sha256()))
            .orElse(null);
  }

  /** Where a plan lies and what its file's digest is. */
  public record Plan(String uri, String sha256) {}
}
