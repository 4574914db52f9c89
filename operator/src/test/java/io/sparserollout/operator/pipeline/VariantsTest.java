package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.api.v1alpha1.StageCompletion;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.stage.BuildEngineArgs;
import io.sparserollout.stage.EvaluateArgs;
import io.sparserollout.stage.VariantModel;
import java.util.List;
import org.junit.jupiter.api.Test;

class VariantsTest {
  private static final String STORE = "/models/sparserollout/ml/minilm-cpu/r/";

  @Test
  void withInt8AllowedTheCpuPipelineBuildsFourVariantsAndQuantizesTheDenseModelToo() {
    SparseModel model = Fixtures.minilm(s -> s.with("quantization").put("mode", "int8-ptq"));

    assertThat(Variants.built(model.getSpec()))
        .containsExactly("dense-fp32", "dense-int8", "sparse-fp32", "sparse-int8");
    assertThat(Stage.plan(model.getSpec()))
        .containsExactly(
            Stage.PRUNE, Stage.QUANTIZE, Stage.QUANTIZE_DENSE, Stage.BUILD_ENGINE, Stage.EVALUATE);
    var status = new SparseModelStatus();
    status.setCompletedStages(
        List.of(
            new StageCompletion("prune", "j1", "u1", "t", "aa"),
            new StageCompletion("quantize", "j3", "u3", "t", "cc"),
            new StageCompletion("quantize-dense", "j4", "u4", "t", "dd")));
    var context = StageContext.of(model, "r", status);

    var dense =
        (io.sparserollout.stage.QuantizeArgs)
            StageHandler.of(Stage.QUANTIZE_DENSE).command(context);
    assertThat(dense.model()).endsWith("/all-minilm-l6-v2/model.onnx");
    assertThat(dense.out()).endsWith("/dense-quantized.onnx");
    var engine = (BuildEngineArgs) StageHandler.of(Stage.BUILD_ENGINE).command(context);
    assertThat(engine.variants())
        .extracting(VariantModel::name, VariantModel::sha256)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("dense-fp32", null),
            org.assertj.core.groups.Tuple.tuple("dense-int8", "dd"),
            org.assertj.core.groups.Tuple.tuple("sparse-fp32", "aa"),
            org.assertj.core.groups.Tuple.tuple("sparse-int8", "cc"));
    assertThat(engine.variants().get(2).model()).endsWith("/pruned.onnx");
    assertThat(engine.variants().get(3).model()).endsWith("/quantized.onnx");
    // The primary is the spec's own variant, with its digest.
    assertThat(engine.model()).endsWith("/quantized.onnx");
    assertThat(engine.expectSha256()).isEqualTo("cc");
    assertThat(engine.precision()).isEqualTo("int8");
    // Evaluation compares the primary and every other variant but the dense reference itself.
    var evaluate = (EvaluateArgs) StageHandler.of(Stage.EVALUATE).command(context);
    assertThat(evaluate.candidate()).endsWith("/quantized.onnx");
    assertThat(evaluate.variants())
        .extracting(VariantModel::name)
        .containsExactly("dense-int8", "sparse-fp32");
    assertThat(evaluate.toArgs())
        .contains(
            "--variant=dense-int8=" + evaluate.variants().get(0).model(),
            "--variant-sha256=dense-int8=dd");
  }

  @Test
  void withoutQuantizationDenseAndSparseFloatOnlyAndNoExtraStage() {
    SparseModel model = Fixtures.minilm();

    assertThat(Variants.built(model.getSpec())).containsExactly("dense-fp32", "sparse-fp32");
    assertThat(Stage.plan(model.getSpec()))
        .containsExactly(Stage.PRUNE, Stage.BUILD_ENGINE, Stage.EVALUATE);
    var evaluate =
        (EvaluateArgs) StageHandler.of(Stage.EVALUATE).command(StageContext.of(model, "r"));
    assertThat(evaluate.variants()).isNull();
  }

  @Test
  void requireSparseLeavesDenseOutOfTheCandidatesButTimesTheReference() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("quantization").put("mode", "int8-ptq");
              s.with("selection").put("requireSparse", true);
            });

    assertThat(Variants.candidates(model.getSpec())).containsExactly("sparse-fp32", "sparse-int8");
    assertThat(Variants.built(model.getSpec()))
        .containsExactly("dense-fp32", "sparse-fp32", "sparse-int8");
    assertThat(Stage.plan(model.getSpec())).doesNotContain(Stage.QUANTIZE_DENSE);
  }

  @Test
  void aPinnedVariantIsTheOnlyCandidateAndTheTopLevelOfTheEngineResult() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("quantization").put("mode", "int8-ptq");
              s.with("selection").put("policy", "pinned").put("variant", "dense-int8");
            });

    assertThat(Variants.candidates(model.getSpec())).containsExactly("dense-int8");
    assertThat(Variants.built(model.getSpec())).containsExactly("dense-fp32", "dense-int8");
    var engine =
        (BuildEngineArgs) StageHandler.of(Stage.BUILD_ENGINE).command(StageContext.of(model, "r"));
    assertThat(engine.model()).endsWith("/dense-quantized.onnx");
  }

  @Test
  void tensorRtVariantsAreFp16AndInt8AndQatSparseFloatIsThePrunedModel() {
    SparseModel model =
        Fixtures.minilm(
            s -> {
              s.with("engine").put("backend", "tensorrt").put("precision", "int8");
              s.with("quantization").put("mode", "int8-qat");
            });

    assertThat(Variants.built(model.getSpec()))
        .containsExactly("dense-fp16", "dense-int8", "sparse-fp16", "sparse-int8");
    var engine =
        (BuildEngineArgs) StageHandler.of(Stage.BUILD_ENGINE).command(StageContext.of(model, "r"));
    assertThat(engine.backend()).isEqualTo("tensorrt");
    assertThat(engine.variants())
        .filteredOn(v -> v.name().equals("sparse-fp16"))
        .singleElement()
        .satisfies(v -> assertThat(v.model()).endsWith("/pruned.onnx"));
    assertThat(engine.variants())
        .filteredOn(v -> v.name().equals("sparse-int8"))
        .singleElement()
        .satisfies(v -> assertThat(v.model()).endsWith("/finetuned.onnx"));
  }

  @Test
  void aPinnedVariantTheSpecDoesNotBuildIsRefusedWithTheChoices() {
    var problems =
        SpecValidator.problems(
            Fixtures.minilm(
                    s -> s.with("selection").put("policy", "pinned").put("variant", "sparse-int8"))
                .getSpec());
    assertThat(problems)
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("spec.selection.variant: sparse-int8 is not built by this spec")
                    .contains("[dense-fp32, sparse-fp32]"));
    assertThat(
            SpecValidator.problems(
                Fixtures.minilm(s -> s.with("selection").put("policy", "pinned")).getSpec()))
        .anySatisfy(p -> assertThat(p).startsWith("spec.selection.variant: required"));
  }
}
