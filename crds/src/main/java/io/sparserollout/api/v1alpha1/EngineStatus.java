package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The serving engine artifact and what it was built for. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EngineStatus(
    @JsonPropertyDescription("tensorrt or onnxruntime.") String backend,
    @JsonPropertyDescription("fp16, int8, or fp32 for onnxruntime.") String precision,
    @JsonPropertyDescription("TensorRT version the plan was built with (tensorrt only).")
        String tensorrtVersion,
    @JsonPropertyDescription(
            "nvidia.com/gpu.product of the node that built it; the plan serves only there.")
        String gpuProduct,
    @JsonPropertyDescription("Layers that run sparse tactics (tensorrt only).")
        Integer sparseLayers,
    @JsonPropertyDescription("Dense latency divided by sparse latency, measured at build time.")
        Double speedup,
    @JsonPropertyDescription(
            "URI of the engine, keyed by model digest, backend, precision, TensorRT version and"
                + " GPU product.")
        String artifactUri,
    @JsonPropertyDescription(
            "SHA-256 of the served engine file; serving pods refuse to load a file whose digest"
                + " differs.")
        String sha256,
    @JsonPropertyDescription(
            "The served variant (status.variants says why): dense or sparse, then the precision.")
        String variant,
    @JsonPropertyDescription(
            "The engines built again on each other qualifying GPU product (tensorrt, when"
                + " spec.engine.gpu.product is empty and the cluster has several); serving pods"
                + " load the one for their GPU.")
        List<ProductEngine> otherProducts) {

  public EngineStatus(
      String backend,
      String precision,
      String tensorrtVersion,
      String gpuProduct,
      Integer sparseLayers,
      Double speedup,
      String artifactUri,
      String sha256,
      String variant) {
    this(
        backend,
        precision,
        tensorrtVersion,
        gpuProduct,
        sparseLayers,
        speedup,
        artifactUri,
        sha256,
        variant,
        null);
  }

  /** Only the other GPU products' engines: the first product's has not reported yet. */
  public static EngineStatus pending(List<ProductEngine> products) {
    return new EngineStatus(null, null, null, null, null, null, null, null, null, products);
  }

  /** Whether the first product's engine (or the only one) is recorded, not only the others'. */
  public boolean built() {
    return backend != null;
  }

  /** The same engine, with the engines of the other GPU products. */
  public EngineStatus withOtherProducts(List<ProductEngine> products) {
    return new EngineStatus(
        backend,
        precision,
        tensorrtVersion,
        gpuProduct,
        sparseLayers,
        speedup,
        artifactUri,
        sha256,
        variant,
        products);
  }

  /** The same engine, built on the nodes labelled nvidia.com/gpu.product={@code product}. */
  public EngineStatus builtOn(String product) {
    return new EngineStatus(
        backend,
        precision,
        tensorrtVersion,
        product,
        sparseLayers,
        speedup,
        artifactUri,
        sha256,
        variant,
        otherProducts);
  }
}
