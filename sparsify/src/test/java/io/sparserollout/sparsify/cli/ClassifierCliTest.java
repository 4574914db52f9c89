package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.head.HeadGraft;
import io.sparserollout.sparsify.head.SoftmaxRegression;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code head} makes a classifier of an encoder, and {@code evaluate --task classification}
 * compares classifiers on their predicted classes and scores them against labels.
 */
class ClassifierCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path tokenizer;
  private Path train;
  private Path labels;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void data() throws Exception {
    tokenizer = dir.resolve("tokenizer.json");
    try (var in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    List<String> sentences = new ArrayList<>();
    List<String> names = new ArrayList<>();
    String[][] words = {
      {"cat", "kitten", "purr", "whiskers"},
      {"dog", "puppy", "bark", "leash"},
      {"fish", "water", "swim", "fins"},
      {"song", "melody", "guitar", "drum"}
    };
    String[] classes = {"cats", "dogs", "fish", "music"};
    for (int i = 0; i < 120; i++) {
      int c = i % 4;
      sentences.add("the " + words[c][i % 3] + " and the " + words[c][(i / 4 + 1) % 4]);
      names.add(i % 40 == 39 ? "rare" : classes[c]);
    }
    train = Files.write(dir.resolve("train.txt"), sentences);
    labels = Files.write(dir.resolve("labels.txt"), names);
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13})
  void theClassifiersLogitsAreTheHeadOnTheEncodersPooledOutput(int opset) throws Exception {
    Path encoder = encoder(opset);
    Path classifier = dir.resolve("classifier.onnx");

    assertThat(head(encoder, classifier, "3")).as(err.toString()).isZero();

    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("classes")).hasSize(4); // the 3 most frequent and "other"
    assertThat(result.get("classes").get(3).asText()).isEqualTo("other");
    OnnxModel model = OnnxModel.load(classifier);
    assertThat(model.metadata("id2label")).isPresent();
    assertThat(model.proto().getGraph().getOutputList())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo(HeadGraft.LOGITS));
    var head =
        new SoftmaxRegression.Weights(
            model.floats(HeadGraft.WEIGHT), model.floats(HeadGraft.BIAS), 4, 8);
    try (TextTokenizer tok = TextTokenizer.load(tokenizer, 16);
        OrtModel dense = OrtModel.open(encoder, 1);
        OrtModel ours = OrtModel.open(classifier, 1)) {
      // Sentences of different lengths in one batch: the padding must not count in the mean.
      TokenBatch batch = tok.encode(List.of("the cat", "a dog barks at the long leash today"));
      float[][] pooled = dense.embed(batch);
      float[][] logits = ours.logits(batch);
      for (int i = 0; i < 2; i++) {
        float[] expected = head.logits(pooled[i]);
        for (int c = 0; c < 4; c++) {
          assertThat(logits[i][c])
              .isCloseTo(expected[c], org.assertj.core.api.Assertions.within(1e-4f));
        }
      }
    }
  }

  @Test
  void aPrunedClassifierIsComparedOnItsClassesAndScoredOnTheLabelsNames() throws Exception {
    Path classifier = dir.resolve("classifier.onnx");
    assertThat(head(encoder(13), classifier, "4")).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).get("trainingAccuracy").asDouble()).isGreaterThan(0.6);
    Path pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                classifier.toString(),
                "--exclude",
                "classifier",
                "--out",
                pruned.toString()))
        .as(err.toString())
        .isZero();
    Path heldOut =
        Files.writeString(
            dir.resolve("held.txt"), "the kitten\nthe puppy\nswim\ndrum\nbirds fly\n");
    // By name, by index, and a label the head was not trained on, which is its class "other".
    Path heldLabels =
        Files.writeString(dir.resolve("held-labels.txt"), "cats\ndogs\n2\nmusic\nbirds\n");

    assertThat(evaluate(classifier, pruned, heldOut, heldLabels, "classification"))
        .as(err.toString())
        .isZero();

    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.at("/fidelity/top1Agreement").asDouble()).isBetween(0.0, 1.0);
    assertThat(result.at("/task/dense/accuracy").asDouble()).isBetween(0.0, 1.0);
    assertThat(result.at("/task/dense").has("ndcg")).isFalse();
    // The dense classifier against itself agrees on every class.
    assertThat(evaluate(classifier, classifier, heldOut, heldLabels, "classification")).isZero();
    assertThat(JSON.readTree(out.toString()).at("/fidelity/top1Agreement").asDouble())
        .isEqualTo(1.0);
  }

  /** int8 PTQ raises opset 11 to 13 (ReduceSum's axes become an input) and keeps the logits. */
  @Test
  void aClassifierFromOpsetElevenIsQuantizedAndStillAgrees() throws Exception {
    Path classifier = dir.resolve("classifier.onnx");
    assertThat(head(encoder(11), classifier, "4")).as(err.toString()).isZero();
    Path int8 = dir.resolve("int8.onnx");

    assertThat(
            run(
                "quantize",
                "--model",
                classifier.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                train.toString(),
                "--out",
                int8.toString()))
        .as(err.toString())
        .isZero();

    assertThat(evaluate(classifier, int8, train, null, "classification"))
        .as(err.toString())
        .isZero();
    assertThat(JSON.readTree(out.toString()).at("/fidelity/cosineMean").asDouble())
        .isGreaterThan(0.95);
  }

  @Test
  void aLabelThatIsNoClassAndTheWrongTaskAreRefusedWithTheReason() throws Exception {
    Path classifier = dir.resolve("classifier.onnx");
    // Every label kept as a class: there is no "other" for an unknown one.
    assertThat(head(encoder(13), classifier, "5")).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).get("classes").toString()).doesNotContain("other");
    Path heldOut = Files.writeString(dir.resolve("held.txt"), "the kitten\nthe puppy\n");
    Path wrong = Files.writeString(dir.resolve("wrong.txt"), "cats\nbirds\n");

    assertThat(evaluate(classifier, classifier, heldOut, wrong, "classification")).isNotZero();
    assertThat(err.toString()).contains("line 2", "'birds'", "cats");

    assertThat(evaluate(classifier, classifier, heldOut, null, "embedding")).isNotZero();
    assertThat(err.toString()).contains("task classification");

    assertThat(evaluate(classifier, classifier, heldOut, null, "regression")).isNotZero();
    assertThat(err.toString()).contains("unknown task regression", "ranking, tensor");

    // A head on a classifier again, and a single logit, which would agree with anything.
    assertThat(head(classifier, dir.resolve("twice.onnx"), "4")).isNotZero();
    assertThat(err.toString()).contains("already has a tensor named", "classifier");
    OnnxModel oneLogit = OnnxModel.load(encoder(13));
    HeadGraft.attach(
        oneLogit, new SoftmaxRegression.Weights(new float[8], new float[1], 1, 8), List.of("x"));
    Path single = dir.resolve("single.onnx");
    oneLogit.save(single);
    assertThat(evaluate(single, single, heldOut, null, "classification")).isNotZero();
    assertThat(err.toString()).contains("at least 2");
  }

  private Path encoder(int opset) {
    ModelProto model = TinyModels.textEncoder(30522, 8, 12, 1);
    model =
        model.toBuilder()
            .clearOpsetImport()
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
            .build();
    return TinyModels.write(model, dir.resolve("encoder-" + opset + ".onnx"));
  }

  private int head(Path encoder, Path classifier, String classes) {
    return run(
        "head",
        "--dense",
        encoder.toString(),
        "--tokenizer",
        tokenizer.toString(),
        "--train",
        train.toString(),
        "--labels",
        labels.toString(),
        "--classes",
        classes,
        "--steps",
        "200",
        "--out",
        classifier.toString(),
        "--json");
  }

  private int evaluate(Path dense, Path candidate, Path data, Path labelsFile, String task) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "evaluate",
                "--dense",
                dense.toString(),
                "--candidate",
                candidate.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--data",
                data.toString(),
                "--task",
                task,
                "--json"));
    if (labelsFile != null) {
      args.addAll(List.of("--labels", labelsFile.toString()));
    }
    return run(args.toArray(String[]::new));
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
