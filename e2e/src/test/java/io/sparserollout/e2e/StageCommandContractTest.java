package io.sparserollout.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.StageHandler;
import io.sparserollout.operator.rollout.ServedModel;
import io.sparserollout.operator.rollout.ServingResources;
import io.sparserollout.operator.rollout.ServingSettings;
import io.sparserollout.sparsify.cli.SparsifyCli;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The command lines the operator puts in stage Jobs are command lines the sparsify CLI accepts:
 * every stage of every recipe parses, so a renamed option fails here and not in a cluster.
 */
class StageCommandContractTest {

  static Stream<Arguments> recipes() {
    return Stream.of(
        recipe("sparsegpt-onnxruntime", spec -> {}),
        recipe("magnitude", spec -> spec.with("sparsity").put("method", "magnitude")),
        recipe("finetune", spec -> spec.with("sparsity").put("method", "finetune")),
        recipe(
            "progressive-int8-qat",
            spec -> {
              spec.with("sparsity").putArray("progressiveSteps").add("1:4").add("2:4");
              spec.with("quantization").put("mode", "int8-qat");
            }),
        recipe(
            "int8-ptq-with-labels",
            spec -> {
              spec.with("quantization").put("mode", "int8-ptq");
              spec.with("evaluation").put("labelsUri", "pvc://models/data/labels.txt");
              spec.with("sparsity").with("layers").putArray("exclude").add("^pooler").add("head");
            }),
        recipe(
            "pinned-sparse-fp32-of-int8-ptq",
            spec -> {
              spec.with("quantization").put("mode", "int8-ptq");
              spec.with("selection").put("policy", "pinned").put("variant", "sparse-fp32");
            }),
        recipe("evaluation-from-calibration", spec -> spec.with("evaluation").remove("dataUri")),
        recipe(
            "captured-samples-int8-ptq",
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("quantization").put("mode", "int8-ptq");
              spec.with("sparsity").with("calibration").put("source", "captured");
              spec.with("evaluation").put("source", "captured").remove("dataUri");
            }),
        recipe(
            "named-evaluation-sets",
            spec -> {
              spec.with("rollout").with("capture").put("enabled", true);
              spec.with("quantization").put("mode", "int8-ptq");
              spec.with("gate").put("perSet", "mean");
              var sets = spec.with("evaluation").remove(List.of("dataUri")).putArray("sets");
              sets.addObject()
                  .put("name", "users")
                  .put("dataUri", "pvc://models/data/evaluation.txt")
                  .put("labelsUri", "pvc://models/data/labels.txt");
              sets.addObject().put("name", "in-domain");
              sets.addObject().put("name", "traffic").put("source", "captured");
            }),
        recipe(
            "s3-store-https-source",
            spec -> {
              spec.with("artifactStore")
                  .put("uri", "s3://bucket/prefix")
                  .put("credentialsSecret", "keys");
              spec.with("source").put("uri", "https://models.example.com/minilm/model.onnx");
            }),
        recipe(
            "tensorrt-int8",
            spec -> {
              spec.with("engine").put("backend", "tensorrt").put("precision", "int8");
              spec.with("quantization").put("mode", "int8-ptq");
            }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("recipes")
  void everyStageCommandParses(String name, SparseModel model) {
    StageContext context = StageContext.of(model, Revision.of(model.getSpec()));

    for (Stage stage : context.plan()) {
      List<String> args = StageHandler.of(stage).args(context);
      assertThatCode(
              () -> new CommandLine(new SparsifyCli()).parseArgs(args.toArray(String[]::new)))
          .as("%s stage: sparsify %s", stage, String.join(" ", args))
          .doesNotThrowAnyException();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("recipes")
  void theServingPodsFetchCommandParses(String name, SparseModel model) {
    String revision = Revision.of(model.getSpec());
    ServingSettings settings = new ServingSettings("serving", "sparsify", 8080);
    var pod =
        ServingResources.deployment(
                model, ServedModel.revision(model, revision, "A100"), 1, settings)
            .getSpec()
            .getTemplate()
            .getSpec();
    for (var init : pod.getInitContainers()) {
      if (init.getName().equals("capture-folder")) {
        // The one command that is not sparsify: coreutils' mkdir, which the image's Debian
        // minbase holds (scripts/images.sh).
        assertThat(init.getCommand()).startsWith("mkdir", "-p").hasSize(3);
        continue;
      }
      // The image's entrypoint runs sparsify (scripts/images.sh); the pod gives only arguments.
      assertThat(init.getCommand()).isEmpty();
      assertThatCode(
              () ->
                  new CommandLine(new SparsifyCli())
                      .parseArgs(init.getArgs().toArray(String[]::new)))
          .as("sparsify %s", String.join(" ", init.getArgs()))
          .doesNotThrowAnyException();
    }
  }

  private static Arguments recipe(String name, Consumer<ObjectNode> edit) {
    return Arguments.of(name, Fixtures.minilm(edit));
  }
}
