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

  /**
   * One engine Job per other product: the stage's command writing to the product's folder, placed
   * on that product's nodes; the first Job ({@code first}) records the set.
   */
  public static List<Job> jobs(
      StageContext c,
      String revision,
      Job first,
      List<GpuPlacement.OnGpu> others,
      JobSettings settings) {
    if (others.isEmpty()) {
      return List.of();
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
   * The stage as a whole: failed when any product's Job failed (naming the product), blocked when
   * one cannot run, done when every one is; otherwise running. A product whose Job is not seen yet
   * (the cache lags its creation, or it was deleted and is made again) is running.
   */
  public static StageState combine(
      StageState first, List<String> expected, Map<String, StageState> byProduct) {
    if (first instanceof StageState.Failed || first instanceof StageState.Recorded) {
      return first;
    }
    for (String product : expected) {
      if (byProduct.get(product) instanceof StageState.Failed failed) {
        return new StageState.Failed("on GPU product " + product + ": " + failed.message());
      }
    }
    for (String product : expected) {
      if (byProduct.get(product) instanceof StageState.Blocked blocked) {
        return new StageState.Blocked(
            blocked.reason(), "on GPU product " + product + ": " + blocked.message());
      }
    }
    if (!(first instanceof StageState.Succeeded)) {
      return first;
    }
    boolean all = expected.stream().allMatch(p -> byProduct.get(p) instanceof StageState.Succeeded);
    return all ? first : new StageState.Running();
  }

  /**
   * What each product's Job built: its folder, the plan of the spec's own variant, and every
   * variant's plan and speed-up over the dense float variant on that product.
   */
  public static List<ProductEngine> results(
      StageContext c, List<String> expected, Map<String, EngineResult> byProduct) {
    String reference = Variants.denseFloat(c.spec());
    List<ProductEngine> engines = new ArrayList<>();
    for (String product : expected) {
      EngineResult result = byProduct.get(product);
      if (result == null) {
        continue;
      }
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
      engines.add(
          new ProductEngine(
              product, c.storage().artifactUri(folder(product)), result.sha256(), variants));
    }
    return engines;
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
