package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.stage.CapturedData;
import io.sparserollout.stage.EvaluationResult;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** spec.evaluation.sets from the spec to the Job's command line, the gate and status. */
class HeldOutSetsTest {
  private static final String FOLDER_END = "/minilm-cpu/captured";

  /** A user's file with labels, a domain not to regress on, and captured traffic. */
  private static SparseModel threeSets(Consumer<ObjectNode> more) {
    return Fixtures.minilm(
        spec -> {
          spec.with("rollout").with("capture").put("enabled", true);
          ObjectNode evaluation = spec.with("evaluation");
          evaluation.remove("dataUri");
          var sets = evaluation.putArray("sets");
          sets.addObject()
              .put("name", "users")
              .put("dataUri", "pvc://models/data/evaluation.txt")
              .put("labelsUri", "pvc://models/data/labels.txt");
          sets.addObject().put("name", "in-domain");
          sets.addObject().put("name", "licenses").put("dataUri", "pvc://corpora/licenses.txt");
          sets.addObject().put("name", "traffic").put("source", "captured");
          more.accept(spec);
        });
  }

  /** Per set, the stage reports an embedding's nearest-neighbour agreement no more. */
  @Test
  void anEmbeddingsSetsAreNotGatedOnTopOneAgreementAndAClassifiersAre() {
    SparseModel embedding = threeSets(spec -> spec.with("gate").put("metric", "top1-agreement"));
    SparseModel classifier =
        threeSets(
            spec -> {
              spec.with("gate").put("metric", "top1-agreement");
              spec.with("source").put("task", "classification");
            });

    assertThat(SpecValidator.problems(embedding.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.gate.metric: \"top1-agreement\" with named evaluation sets");
    assertThat(SpecValidator.problems(classifier.getSpec())).isEmpty();
    assertThat(
            SpecValidator.problems(
                Fixtures.minilm(spec -> spec.with("gate").put("metric", "top1-agreement"))
                    .getSpec()))
        .isEmpty();
  }

  @Test
  void eachSetBecomesANamedSetOfTheEvaluateCommand() {
    SparseModel model = threeSets(spec -> {});
    List<String> args =
        StageHandler.of(Stage.EVALUATE)
            .args(new StageContext(model, new Storage(model, "r"), Stage.plan(model.getSpec())));

    assertThat(args)
        .contains(
            "--set=users=/mnt/models/data/evaluation.txt",
            "--set-labels=users=/mnt/models/data/labels.txt",
            "--set=in-domain=/mnt/models/data/calibration.txt",
            "--set-offset=in-domain=128",
            "--set=licenses=/mnt/corpora/licenses.txt")
        .containsSubsequence("--captured-part", "held-out")
        .doesNotContain("--data", "--labels", "--offset");
    assertThat(args)
        .filteredOn(a -> a.startsWith("--set=traffic="))
        .singleElement()
        .asString()
        .endsWith(FOLDER_END);
    assertThat(SpecValidator.problems(model.getSpec())).isEmpty();
    // Each set's store is mounted or reached like any other location of the spec.
    assertThat(Storage.claims(model)).contains("corpora");
    assertThat(Revision.readsCaptured(model.getSpec())).isTrue();
    SparseModel inS3 =
        threeSets(
            spec ->
                ((ObjectNode) spec.with("evaluation").get("sets").get(2))
                    .put("dataUri", "s3://corpora/licenses.txt"));
    assertThat(Storage.usesS3(inS3)).isTrue();
    assertThat(SpecValidator.problems(inS3.getSpec()))
        .singleElement()
        .asString()
        .startsWith("spec.artifactStore.credentialsSecret: required for s3:// locations");
  }

  @Test
  void theGateJudgesEverySetAndStatusShowsEach() {
    SparseModel model = threeSets(spec -> {});
    StageContext context = StageContext.of(model, "r1");
    SparseModelStatus status = new SparseModelStatus();

    new EvaluateStage()
        .apply(
            status,
            context,
            result(
                set("users", 0.95, null),
                set("in-domain", 0.93, null),
                set("licenses", 0.86, null),
                set("traffic", 0.91, new CapturedData(120, 0, "2026-12-06T05", "2026-12-06T07"))));

    GateStatus gate = status.getGate();
    assertThat(gate.verdict()).isEqualTo(GateStatus.Verdict.FAILED);
    assertThat(gate.message()).startsWith("set licenses: ").endsWith("1 of 4 sets fail (licenses)");
    assertThat(gate.sets())
        .extracting(GateStatus.SetVerdict::name)
        .containsExactly("users", "in-domain", "licenses", "traffic");
    assertThat(gate.reportUri()).endsWith("/r1/reports/evaluate.json");
    assertThat(status.getCapturedData().evaluation().samples()).isEqualTo(120);

    SparseModel mean = threeSets(spec -> spec.with("gate").put("perSet", "mean"));
    SparseModelStatus meanStatus = new SparseModelStatus();
    new EvaluateStage()
        .apply(
            meanStatus,
            StageContext.of(mean, "r1"),
            result(
                set("users", 0.95, null),
                set("in-domain", 0.93, null),
                set("licenses", 0.86, null),
                set("traffic", 0.91, null)));
    assertThat(meanStatus.getGate().verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(meanStatus.getGate().sparse()).isEqualTo(0.9125);
  }

  @Test
  void everyVariantIsJudgedOnEverySet() {
    SparseModel model = threeSets(spec -> spec.with("quantization").put("mode", "int8-ptq"));
    StageContext context = StageContext.of(model, "r1");
    SparseModelStatus status = new SparseModelStatus();
    new BuildEngineStage().apply(status, context, VariantGateTest.engine());

    // dense-int8 is fastest but drops too far on licenses; sparse-int8 passes everywhere.
    new EvaluateStage()
        .apply(
            status,
            context,
            result(
                withVariant(set("users", 0.95, null), 0.99),
                withVariant(set("in-domain", 0.94, null), 0.99),
                withVariant(set("licenses", 0.93, null), 0.85),
                withVariant(set("traffic", 0.92, null), 0.99)));

    assertThat(status.getVariants())
        .filteredOn(v -> v.name().equals("dense-int8"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.passed()).isFalse();
              // Ranked on the sets' mean, comparable with the other variants' numbers.
              assertThat(v.metric()).isEqualTo(0.955);
              assertThat(v.reason()).startsWith("failed the gate: set licenses: ");
            });
    assertThat(status.getEngine().variant()).isEqualTo("sparse-int8");
    assertThat(status.getGate().verdict()).isEqualTo(GateStatus.Verdict.PASSED);
    assertThat(status.getGate().sets()).hasSize(4);
  }

  @Test
  void variantsAsFastAsEachOtherAreToldApartByTheSetsMean() {
    SparseModel model = threeSets(spec -> spec.with("quantization").put("mode", "int8-ptq"));
    StageContext context = StageContext.of(model, "r1");
    SparseModelStatus status = new SparseModelStatus();
    new BuildEngineStage().apply(status, context, VariantGateTest.engine());

    // dense-int8 (170/s) and sparse-int8 (172/s) both pass; dense-int8 is better on the mean.
    new EvaluateStage()
        .apply(
            status,
            context,
            result(
                withVariant(set("users", 0.95, null), 0.99),
                withVariant(set("in-domain", 0.94, null), 0.99),
                withVariant(set("licenses", 0.93, null), 0.98),
                withVariant(set("traffic", 0.92, null), 0.99)));

    assertThat(status.getEngine().variant()).isEqualTo("dense-int8");
    assertThat(status.getGate().message())
        .startsWith("variant dense-int8 (best mean cosine-fidelity of 4 sets (0.9875)")
        .contains("): set licenses: cosine-fidelity 0.9800");
  }

  @Test
  void whatCannotBeEvaluatedIsRefusedNamingTheSet() {
    SparseModel beside =
        threeSets(
            spec -> spec.with("evaluation").put("dataUri", "pvc://models/data/evaluation.txt"));
    assertThat(SpecValidator.problems(beside.getSpec()))
        .containsExactly(
            "spec.evaluation.dataUri: unused beside spec.evaluation.sets; give it as one set's"
                + " dataUri and labelsUri");

    SparseModel twice =
        threeSets(
            spec -> {
              var sets =
                  (com.fasterxml.jackson.databind.node.ArrayNode)
                      spec.with("evaluation").get("sets");
              sets.addObject().put("name", "users").put("source", "captured");
              spec.with("rollout").remove("capture");
            });
    assertThat(SpecValidator.problems(twice.getSpec()))
        .contains(
            "spec.evaluation.sets[3].source: captured, but nothing is captured for this model; set"
                + " spec.rollout.capture",
            "spec.evaluation.sets[4].name: users names an earlier set too",
            "spec.evaluation.sets[4].source: the captured held-out half is already an earlier"
                + " set");

    SparseModel capturedCalibration =
        threeSets(spec -> spec.with("sparsity").with("calibration").put("source", "captured"));
    assertThat(SpecValidator.problems(capturedCalibration.getSpec()))
        .containsExactly(
            "spec.evaluation.sets[1].dataUri: required: without it a set holds out the calibration"
                + " file's sentences, and calibration reads no file of its own (its source is"
                + " captured)");

    // Mixed calibration reads the file's first sentences: the rest of the file is held out.
    SparseModel mixed =
        threeSets(spec -> spec.with("sparsity").with("calibration").put("source", "mixed"));
    assertThat(SpecValidator.problems(mixed.getSpec())).isEmpty();

    // Fine-tuning trains on the calibration file: none of it is held out.
    SparseModel tuned = threeSets(spec -> spec.with("sparsity").put("method", "finetune"));
    assertThat(SpecValidator.problems(tuned.getSpec()))
        .containsExactly(
            "spec.evaluation.sets[1].dataUri: required by a plan that fine-tunes (method finetune,"
                + " int8-qat or progressiveSteps): it trains on the calibration file, so none of"
                + " that file is held out");

    SparseModel taskGate = threeSets(spec -> spec.with("gate").put("metric", "ndcg"));
    assertThat(SpecValidator.problems(taskGate.getSpec()))
        .containsExactly(
            "spec.evaluation.sets[1].labelsUri: required by gate metric \"ndcg\", on every set",
            "spec.evaluation.sets[2].labelsUri: required by gate metric \"ndcg\", on every set",
            "spec.gate.metric: captured samples have no labels; gate on cosine-fidelity,"
                + " top1-agreement or topk-agreement, or give this set a labelled file");
  }

  @Test
  void setsAndPerSetStartANewRevisionOnlyWhenWritten() {
    SparseModel plain = Fixtures.minilm();
    SparseModel allWritten = Fixtures.minilm(spec -> spec.with("gate").put("perSet", "all"));
    assertThat(Revision.of(allWritten.getSpec())).isEqualTo(Revision.of(plain.getSpec()));
    // perSet says nothing without sets.
    SparseModel meanAlone = Fixtures.minilm(spec -> spec.with("gate").put("perSet", "mean"));
    assertThat(Revision.of(meanAlone.getSpec())).isEqualTo(Revision.of(plain.getSpec()));
    String sets = Revision.of(threeSets(spec -> {}).getSpec());
    assertThat(sets).isNotEqualTo(Revision.of(plain.getSpec()));
    assertThat(Revision.of(threeSets(spec -> spec.with("gate").put("perSet", "mean")).getSpec()))
        .isNotEqualTo(sets);
  }

  private static EvaluationResult.SetQuality set(String name, double cosine, CapturedData data) {
    return new EvaluationResult.SetQuality(
        name, 100, new EvaluationResult.Fidelity(cosine, null, null, null, 0.8), null, null, data);
  }

  private static EvaluationResult.SetQuality withVariant(
      EvaluationResult.SetQuality set, double denseInt8) {
    return new EvaluationResult.SetQuality(
        set.name(),
        set.samples(),
        set.fidelity(),
        null,
        List.of(
            new EvaluationResult.VariantQuality(
                "dense-int8",
                new EvaluationResult.Fidelity(denseInt8, null, null, null, 0.9),
                null),
            new EvaluationResult.VariantQuality(
                "sparse-fp32",
                new EvaluationResult.Fidelity(
                    set.fidelity().cosineMean() + 0.001, null, null, null, 0.9),
                null)),
        set.captured());
  }

  private static EvaluationResult result(EvaluationResult.SetQuality... sets) {
    EvaluationResult.SetQuality first = sets[0];
    return new EvaluationResult(
        first.samples(),
        first.fidelity(),
        first.task(),
        null,
        null,
        first.variants(),
        first.captured(),
        List.of(sets));
  }
}
