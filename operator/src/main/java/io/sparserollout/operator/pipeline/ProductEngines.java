package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.api.v1alpha1.ProductEngine;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.BuildEngineArgs;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.SpeedRatio;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The engine stage on every other qualifying GPU product, as pure functions: a TensorRT plan runs
 * only on the product it was built on, so where a cluster has several, each gets its own engine Job
 * beside the first product's, building and timing every variant there. The first product's Job is
 * the stage's (its variants are the ones measured for selection); it names the others in an
 * annotation, and the stage is done when all of them are.
 */
public final class ProductEngines {
  /** The GPU product label value an engine Job of another product builds on. */
  public static final String PRODUCT_LABEL = "sparserollout.io/gpu-product";

  /** On the first product's engine Job: the other products, comma-separated. */
  public static final String OTHERS_ANNOTATION = "sparserollout.io/other-gpu-products";

  private ProductEngines() {}

  /** Where a product's engines go: a folder of the stage's engine folder. */
  static String folder(String product) {
    return StageContext.ENGINE + "/gpu/" + product;
  }

  /** Deterministic and short: a hash of the product keeps any label value within a name. */
  public static String jobName(SparseModel model, String revision, String product) {
    return OwnedResources.name(
        model, "-" + revision + "-" + Stage.BUILD_ENGINE.jobSuffix() + "-" + hash(product));
  }

  /** Records on the first engine Job, before it is made, which other products the stage has. */
  public static void annotate(Job first, List<GpuPlacement.OnGpu> others) {
    if (others.isEmpty()) {
      return;
    }
    Map<String, String> annotations =
        new LinkedHashMap<>(
            first.getMetadata().getAnnotations() == null
                ? Map.of()
                : first.getMetadata().getAnnotations());
    annotations.put(
        OTHERS_ANNOTATION,
        String.join(",", others.stream().map(GpuPlacement.OnGpu::product).toList()));
    first.getMetadata().setAnnotations(annotations);
  }

  /**
   * One engine Job per product of {@code others}: the stage's command writing to the product's
   * folder, placed on that product's nodes, with the first Job's annotations but the set.
   */
  public static List<Job> jobs(
      StageContext c,
      String revision,
      Job first,
      List<GpuPlacement.OnGpu> others,
      JobSettings settings) {
    Map<String, String> annotations =
        new LinkedHashMap<>(
            first.getMetadata().getAnnotations() == null
                ? Map.of()
                : first.getMetadata().getAnnotations());
    BuildEngineArgs stage = new BuildEngineStage().command(c);
    List<Job> jobs = new ArrayList<>();
    for (GpuPlacement.OnGpu gpu : others) {
      BuildEngineArgs args =
          new BuildEngineArgs(
              stage.backend(),
              stage.precision(),
              stage.model(),
              stage.dense(),
              c.storage().artifact(folder(gpu.product())),
              stage.batch(),
              stage.sequence(),
              stage.expectSha256(),
              stage.variants(),
              c.storage().artifact(folder(gpu.product()) + "/report.json"));
      Job job =
          StageJobs.build(c.model(), revision, Stage.BUILD_ENGINE, args.toArgs(), gpu, settings);
      job.getMetadata().setName(jobName(c.model(), revision, gpu.product()));
      job.getMetadata().getLabels().put(PRODUCT_LABEL, gpu.product());
      job.getSpec().getTemplate().getMetadata().getLabels().put(PRODUCT_LABEL, gpu.product());
      Map<String, String> own = new LinkedHashMap<>(annotations);
      own.remove(OTHERS_ANNOTATION);
      job.getMetadata().setAnnotations(own);
      jobs.add(job);
    }
    return jobs;
  }

  /** The other products the first engine Job named; empty for one product (or CPU). */
  public static List<String> expected(Job first) {
    String value =
        first == null || first.getMetadata().getAnnotations() == null
            ? null
            : first.getMetadata().getAnnotations().get(OTHERS_ANNOTATION);
    return value == null || value.isBlank()
        ? List.of()
        : Arrays.stream(value.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
  }

  /**
   * The stage as a whole, once what is done is recorded ({@code firstRecorded}, and the products in
   * {@code recorded}, built or failed): done when the first product's result and every other
   * product's are; failed when the first product's Job failed (a product failing alone serves
   * nothing, the others serve on); blocked when a product's Job cannot run; otherwise running. A
   * product whose Job is not seen yet (the cache lags its creation, or it is made again) runs.
   */
  public static StageState combine(
      StageState first,
      boolean firstRecorded,
      List<String> expected,
      java.util.Set<String> recorded,
      Map<String, StageState> byProduct) {
    if (!firstRecorded
        && (first instanceof StageState.Failed || first instanceof StageState.NotStarted)) {
      return first; // failed, or its Job to be made (again)
    }
    if (firstRecorded && recorded.containsAll(expected)) {
      return new StageState.Recorded();
    }
    for (String product : expected) {
      if (!recorded.contains(product)
          && byProduct.get(product) instanceof StageState.Blocked blocked) {
        return new StageState.Blocked(
            blocked.reason(), "on GPU product " + product + ": " + blocked.message());
      }
    }
    return !firstRecorded && first instanceof StageState.Blocked ? first : new StageState.Running();
  }

  /**
   * What a product's Job built: its folder, the plan of the spec's own variant, and every variant's
   * plan and speed-up over the dense float variant on that product.
   */
  public static ProductEngine built(StageContext c, String product, EngineResult result) {
    String reference = Variants.denseFloat(c.spec());
    EngineResult.Timing dense =
        result.variants() == null
            ? null
            : result.variants().stream()
                .filter(v -> reference.equals(v.name()))
                .map(ProductEngines::main)
                .filter(Objects::nonNull)
                .findFirst()
                .orElse(null);
    List<ProductEngine.Variant> variants =
        result.variants() == null
            ? null
            : result.variants().stream()
                .map(
                    v -> {
                      EngineResult.Timing t = main(v);
                      SpeedRatio ratio =
                          t == null || dense == null
                              ? null
                              : SpeedRatio.of(
                                  t.perSecond(),
                                  BuildEngineStage.usable(t.perSecondByRepetition()),
                                  dense.perSecond(),
                                  BuildEngineStage.usable(dense.perSecondByRepetition()));
                      return new ProductEngine.Variant(
                          v.name(),
                          v.sha256(),
                          ratio == null ? null : rounded(ratio.estimate()),
                          ratio == null ? null : rounded(ratio.low()),
                          ratio == null ? null : rounded(ratio.high()));
                    })
                .toList();
    return new ProductEngine(
        product, c.storage().artifactUri(folder(product)), result.sha256(), variants, null);
  }

  private static EngineResult.Timing main(EngineResult.VariantEngine v) {
    return v.timings() == null || v.timings().isEmpty() ? null : v.timings().get(0);
  }

  private static Double rounded(double value) {
    return Double.isFinite(value) && value > 0 ? Math.round(value * 1000) / 1000.0 : null;
  }

  private static String hash(String product) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(product.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
