package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.sparserollout.api.v1alpha1.ProductEngine;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.EngineResult;
import io.sparserollout.stage.StageResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProductEnginesTest {
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final String L4 = "NVIDIA-L4";
  private final SparseModel model =
      Fixtures.minilm(s -> s.with("engine").put("backend", "tensorrt"));
  private final StageContext context = StageContext.of(model, "r1");
  private final JobSettings settings =
      new JobSettings("sparserollout/sparsify:test", 2, Duration.ofHours(2));

  @Test
  void eachOtherProductGetsAnEngineJobOnItsNodesWritingToItsOwnFolder() {
    GpuPlacement.OnGpu a100 = GpuPlacement.servingOn(model.getSpec().engine(), A100);
    GpuPlacement.OnGpu l4 = GpuPlacement.servingOn(model.getSpec().engine(), L4);
    Job first =
        StageJobs.build(
            model,
            "r1",
            Stage.BUILD_ENGINE,
            StageHandler.of(Stage.BUILD_ENGINE).args(context),
            a100,
            settings);

    ProductEngines.annotate(first, List.of(l4));
    List<Job> jobs = ProductEngines.jobs(context, "r1", first, List.of(l4), settings);

    assertThat(ProductEngines.expected(first)).containsExactly(L4);
    Job job = jobs.get(0);
    assertThat(job.getMetadata().getName())
        .isEqualTo(ProductEngines.jobName(model, "r1", L4))
        .startsWith("minilm-cpu-r1-engine-")
        .isNotEqualTo(first.getMetadata().getName());
    assertThat(job.getMetadata().getLabels())
        .containsEntry(ProductEngines.PRODUCT_LABEL, L4)
        .containsEntry(StageJobs.STAGE_LABEL, "engine");
    assertThat(job.getMetadata().getAnnotations())
        .doesNotContainKey(ProductEngines.OTHERS_ANNOTATION);
    assertThat(GpuPlacement.placedOn(job)).isEqualTo(L4);
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsSubsequence(
            "--out", "/mnt/artifacts/sparserollout/ml/minilm-cpu/r1/engine/gpu/" + L4)
        .containsSubsequence(
            "--report",
            "/mnt/artifacts/sparserollout/ml/minilm-cpu/r1/engine/gpu/" + L4 + "/report.json");
    assertThat(ProductEngines.jobs(context, "r1", first, List.of(), settings)).isEmpty();
  }

  @Test
  void theStageIsDoneWhenEveryResultIsRecordedAndOnlyTheFirstProductsFailureFailsIt() {
    StageState done = new StageState.Succeeded(result("sha256:a"));
    StageState running = new StageState.Running();
    List<String> others = List.of(L4, "NVIDIA-H100");

    // Every result recorded, the first's and each other product's (built or failed): done.
    assertThat(ProductEngines.combine(done, true, others, Set.of(L4, "NVIDIA-H100"), Map.of()))
        .isInstanceOf(StageState.Recorded.class);
    // One product's still to come (its Job not even seen yet): running.
    assertThat(ProductEngines.combine(done, true, others, Set.of(L4), Map.of()))
        .isInstanceOf(StageState.Running.class);
    // The first not recorded yet, though the others are: running.
    assertThat(ProductEngines.combine(running, false, others, Set.copyOf(others), Map.of()))
        .isInstanceOf(StageState.Running.class);
    // The first product's Job not there (deleted before it reported): made again.
    assertThat(
            ProductEngines.combine(new StageState.NotStarted(), false, others, Set.of(), Map.of()))
        .isInstanceOf(StageState.NotStarted.class);
    // The first product failing fails the stage.
    assertThat(
            ProductEngines.combine(
                new StageState.Failed("no GPU"), false, others, Set.of(), Map.of()))
        .isEqualTo(new StageState.Failed("no GPU"));
    // A product's Job that cannot run blocks the stage, naming the product.
    assertThat(
            ProductEngines.combine(
                done,
                true,
                others,
                Set.of(L4),
                Map.of("NVIDIA-H100", new StageState.Blocked("ImagePullBackOff", "no image"))))
        .isEqualTo(
            new StageState.Blocked("ImagePullBackOff", "on GPU product NVIDIA-H100: no image"));
  }

  @Test
  void eachProductsPlansAndSpeedUpsGoToStatus() {
    ProductEngine l4 =
        ProductEngines.built(
            context,
            L4,
            new EngineResult(
                "tensorrt",
                "fp16",
                null,
                "10.15.1",
                "NVIDIA L4",
                36,
                null,
                8,
                128,
                null,
                null,
                null,
                "sha256:own",
                List.of(
                    variant("dense-fp16", "sha256:d", 100.0),
                    variant("sparse-fp16", "sha256:s", 150.0))));

    assertThat(l4.gpuProduct()).isEqualTo(L4);
    assertThat(l4.artifactUri())
        .isEqualTo("pvc://artifacts/sparserollout/ml/minilm-cpu/r1/engine/gpu/" + L4);
    assertThat(l4.variants())
        .extracting(ProductEngine.Variant::name, ProductEngine.Variant::speedup)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("dense-fp16", 1.0),
            org.assertj.core.groups.Tuple.tuple("sparse-fp16", 1.5));
    assertThat(l4.plan("sparse-fp16"))
        .isEqualTo(
            new ProductEngine.Plan(l4.artifactUri() + "/sparse-fp16/model.plan", "sha256:s"));
    assertThat(l4.plan("sparse-int8")).isNull();
    assertThat(ProductEngine.failed(L4, "out of memory").plan("sparse-fp16")).isNull();
  }

  private static EngineResult.VariantEngine variant(String name, String sha, double perSecond) {
    return new EngineResult.VariantEngine(
        name,
        sha,
        null,
        List.of(new EngineResult.Timing(8, 128, 50, 1.0, 2.0, perSecond, 0.01, null)));
  }

  private static StageResult result(String sha) {
    return new EngineResult(
        "tensorrt",
        "fp16",
        null,
        "10.15.1",
        "NVIDIA A100",
        36,
        null,
        8,
        128,
        null,
        null,
        null,
        sha,
        null);
  }
}
