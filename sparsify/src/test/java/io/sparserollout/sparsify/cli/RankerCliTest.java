package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.head.PairwiseRanker;
import io.sparserollout.sparsify.head.RankerGraft;
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
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code head --task ranking} makes a ranker of an encoder, and {@code prune}, {@code quantize} and
 * {@code evaluate --task ranking} take its (query, document) pairs in the tokenizer's pair encoding
 * and compare rankers one query's documents at a time.
 */
class RankerCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[][] TOPICS = {
    {"cats", "the kitten purrs", "whiskers and a cat", "a cat sleeps"},
    {"dogs", "the puppy barks", "a dog on a leash", "dogs fetch sticks"},
    {"fish", "fish swim in water", "fins and gills", "the fish tank"},
    {"music", "a guitar melody", "the drum beat", "songs and singing"}
  };
  @TempDir Path dir;
  private Path tokenizer;
  private Path pairs;
  private Path grades;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void data() throws Exception {
    tokenizer = dir.resolve("tokenizer.json");
    try (var in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    // Each topic's query asks about it: its own documents are grade 2, a neighbour's grade 0.
    List<String> lines = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int q = 0; q < TOPICS.length; q++) {
      for (String query : List.of("about " + TOPICS[q][0], "tell me of " + TOPICS[q][0])) {
        for (int t : new int[] {q, (q + 1) % TOPICS.length}) {
          for (int d = 1; d < TOPICS[t].length; d++) {
            lines.add(query + "\t" + TOPICS[t][d]);
            labels.add(t == q ? "2" : "0");
          }
        }
      }
    }
    pairs = Files.write(dir.resolve("pairs.tsv"), lines);
    grades = Files.write(dir.resolve("grades.txt"), labels);
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13})
  void theScoreIsTheTrainedWeighingOfTheUnitQueryAndDocumentMeans(int opset) throws Exception {
    Path encoder = encoder(opset);
    Path ranker = dir.resolve("ranker.onnx");

    assertThat(head(encoder, ranker)).as(err.toString()).isZero();

    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("queries").asInt()).isEqualTo(8);
    assertThat(result.get("orderedPairs").asInt()).isEqualTo(8 * 3 * 3);
    assertThat(result.get("trainedOrder").asDouble()).isBetween(0.0, 1.0); // PairwiseRankerTest
    OnnxModel model = OnnxModel.load(ranker);
    assertThat(model.proto().getGraph().getOutputList())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo(RankerGraft.SCORE));
    var head =
        new PairwiseRanker.Weights(
            model.floats(RankerGraft.WEIGHT), model.floats(RankerGraft.BIAS)[0]);
    try (TextTokenizer tok = TextTokenizer.load(tokenizer, 32, true);
        OrtModel dense = OrtModel.open(encoder, 1);
        OrtModel ours = OrtModel.open(ranker, 1)) {
      // Pairs of different lengths in one batch: padding counts in neither mean.
      TokenBatch batch =
          tok.encode(List.of("cat\ta kitten", "where do dogs sleep at night\tthe puppy barks"));
      assertThat(batch.typeIds()).contains(1L); // the document's tokens are type 1
      OrtModel.FloatTensor hidden =
          dense.run(batch, Set.of(dense.firstOutput())).get(dense.firstOutput());
      float[][] features =
          RankerGraft.features(
              hidden.data(),
              (int) hidden.shape()[1],
              (int) hidden.shape()[2],
              batch.attentionMask(),
              batch.typeIds());
      float[][] scores = ours.scores(batch);
      for (int i = 0; i < 2; i++) {
        assertThat((double) scores[i][0]).isCloseTo(head.score(features[i]), within(1e-4));
      }
    }
  }

  @Test
  void aPrunedAndQuantizedRankerIsComparedPerQueryAndScoredOnGradedLabels() throws Exception {
    Path ranker = dir.resolve("ranker.onnx");
    assertThat(head(encoder(13), ranker)).as(err.toString()).isZero();
    Path pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "sparsegpt",
                "--model",
                ranker.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                pairs.toString(),
                "--task",
                "ranking",
                "--exclude",
                "^ranker\\.",
                "--out",
                pruned.toString()))
        .as(err.toString())
        .isZero();
    assertThat(OnnxModel.load(pruned).floats(RankerGraft.WEIGHT))
        .as("the head is left dense")
        .doesNotContain(0f);
    Path int8 = dir.resolve("int8.onnx");
    assertThat(
            run(
                "quantize",
                "--model",
                pruned.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--calibration",
                pairs.toString(),
                "--task",
                "ranking",
                "--out",
                int8.toString()))
        .as(err.toString())
        .isZero();

    assertThat(evaluate(ranker, int8, pairs, grades)).as(err.toString()).isZero();

    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("samples").asInt()).isEqualTo(48);
    assertThat(result.at("/fidelity/top1Agreement").asDouble()).isBetween(0.0, 1.0);
    assertThat(result.at("/fidelity/cosineMean").asDouble()).isBetween(-1.0, 1.0);
    assertThat(result.at("/task/dense/ndcg").asDouble()).isBetween(0.0, 1.0);
    assertThat(result.at("/task/dense/pnr").asDouble()).isPositive();
    assertThat(result.at("/task/candidate/accuracy").asDouble()).isBetween(0.0, 1.0);
    // The dense ranker against itself: every query's order is the same.
    assertThat(evaluate(ranker, ranker, pairs, grades)).isZero();
    JsonNode same = JSON.readTree(out.toString());
    assertThat(same.at("/fidelity/top1Agreement").asDouble()).isEqualTo(1.0);
    assertThat(same.at("/fidelity/top5Overlap").asDouble()).isEqualTo(1.0);
    assertThat(same.at("/fidelity/cosineMean").asDouble()).isCloseTo(1.0, within(1e-6));
    assertThat(same.at("/task/dense/pnr").asDouble())
        .isEqualTo(same.at("/task/candidate/pnr").asDouble());
  }

  @Test
  void samplesThatAreNoPairsGradesThatAreNoNumbersAndTheWrongTaskAreRefused() throws Exception {
    Path ranker = dir.resolve("ranker.onnx");
    assertThat(head(encoder(13), ranker)).as(err.toString()).isZero();
    Path noTab = Files.writeString(dir.resolve("no-tab.tsv"), "cats\tthe kitten\ncats purr\n");
    Path badGrade = Files.writeString(dir.resolve("bad.txt"), "2\nhigh\n");
    Path two = Files.writeString(dir.resolve("two.tsv"), "cats\tthe kitten\ncats\ta dog\n");

    assertThat(evaluate(ranker, ranker, noTab, null)).isNotZero();
    assertThat(err.toString()).contains("sample 2", "query<TAB>document");
    assertThat(evaluate(ranker, ranker, two, badGrade)).isNotZero();
    assertThat(err.toString()).contains("label 2", "high", "graded relevance");
    Path oneEach = Files.writeString(dir.resolve("one.tsv"), "cats\tthe kitten\ndogs\ta dog\n");
    assertThat(evaluate(ranker, ranker, oneEach, null)).isNotZero();
    assertThat(err.toString()).contains("no query has two documents");

    // A ranker read as a classifier or an embedding, and an encoder read as a ranker.
    assertThat(run(evaluateArgs(ranker, ranker, two, "classification"))).isNotZero();
    assertThat(err.toString()).contains("task ranking");
    assertThat(run(evaluateArgs(ranker, ranker, two, "embedding"))).isNotZero();
    assertThat(err.toString()).contains("use task ranking");
    Path encoder = encoder(13);
    assertThat(run(evaluateArgs(encoder, encoder, two, "ranking"))).isNotZero();
    assertThat(err.toString()).contains("a ranker's first output", "use task embedding");

    // A head on a ranker again; an encoder without token types cannot tell query from document.
    assertThat(head(ranker, dir.resolve("twice.onnx"))).isNotZero();
    assertThat(err.toString()).contains("already has a tensor named", "ranker");
    Path untyped =
        TinyModels.write(TinyModels.textEncoder(30522, 8, 12, 1), dir.resolve("untyped.onnx"));
    assertThat(head(untyped, dir.resolve("untyped-ranker.onnx"))).isNotZero();
    assertThat(err.toString()).contains("no token_type_ids input");

    // A ranker fine-tuned without --task ranking would read each pair as one sentence.
    for (String task : new String[] {null, "embedding"}) {
      assertThat(run(finetuneArgs(ranker, ranker, task, dir.resolve("t.onnx")))).isNotZero();
      assertThat(err.toString()).contains("one score per sample", "give --task ranking");
    }
    List<String> undistilled =
        new ArrayList<>(List.of(finetuneArgs(ranker, ranker, "ranking", dir.resolve("t.onnx"))));
    undistilled.add("--no-distillation");
    assertThat(run(undistilled.toArray(String[]::new))).isNotZero();
    assertThat(err.toString()).contains("a ranker is fine-tuned by distillation");
    assertThat(run(finetuneArgs(encoder, encoder, "ranking", dir.resolve("t.onnx")))).isNotZero();
    assertThat(err.toString()).contains("must be one score per pair");
    List<String> labelled =
        new ArrayList<>(List.of(finetuneArgs(ranker, ranker, "ranking", dir.resolve("t.onnx"))));
    labelled.addAll(List.of("--labels", grades.toString()));
    assertThat(run(labelled.toArray(String[]::new))).isNotZero();
    assertThat(err.toString()).contains("distilling its scores: drop --labels");
  }

  /**
   * A ranker pruned 2:4 by magnitude recovers by distilling its scores on pairs in the pair
   * encoding: the held-out correlation of its scores with the dense ranker's rises, its masks kept.
   */
  @Test
  void aRankerIsFineTunedByDistillingItsScoresPairByPair() throws Exception {
    Path ranker = dir.resolve("ranker.onnx");
    assertThat(head(encoder(13), ranker)).as(err.toString()).isZero();
    Path pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                ranker.toString(),
                "--exclude",
                "^ranker\\.",
                "--out",
                pruned.toString()))
        .as(err.toString())
        .isZero();
    Path tuned = dir.resolve("tuned.onnx");

    List<String> args = new ArrayList<>(List.of(finetuneArgs(ranker, pruned, "ranking", tuned)));
    args.addAll(List.of("--steps", "30", "--batch-size", "8", "--lr", "2e-3", "--json"));
    assertThat(run(args.toArray(String[]::new))).as(err.toString()).isZero();

    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("finalFidelity").asDouble())
        .isGreaterThan(result.get("initialFidelity").asDouble());
    assertThat(run("verify", "--model", tuned.toString(), "--json")).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).get("violationCount").asInt()).isZero();
    // Per query, the tuned ranker's scores lie closer to the dense ranker's than the pruned one's.
    assertThat(evaluate(ranker, pruned, pairs, grades)).as(err.toString()).isZero();
    double before = JSON.readTree(out.toString()).at("/fidelity/cosineMean").asDouble();
    assertThat(evaluate(ranker, tuned, pairs, grades)).as(err.toString()).isZero();
    assertThat(JSON.readTree(out.toString()).at("/fidelity/cosineMean").asDouble())
        .isGreaterThan(before);
  }

  /** {@code task} null: no --task. */
  private String[] finetuneArgs(Path dense, Path init, String task, Path tuned) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "finetune",
                "--dense",
                dense.toString(),
                "--init",
                init.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--train",
                pairs.toString(),
                "--held-out",
                pairs.toString(),
                "--out",
                tuned.toString()));
    if (task != null) {
      args.addAll(List.of("--task", task));
    }
    return args.toArray(String[]::new);
  }

  @Test
  void aQuerysDocumentsAreItsLinesWhereverTheyStandAndAnOffsetSkipsLinesAndLabelsAlike()
      throws Exception {
    Path ranker = dir.resolve("ranker.onnx");
    assertThat(head(encoder(13), ranker)).as(err.toString()).isZero();
    Path pruned = dir.resolve("pruned.onnx");
    assertThat(
            run(
                "prune",
                "--method",
                "magnitude",
                "--model",
                ranker.toString(),
                "--exclude",
                "^ranker\\.",
                "--out",
                pruned.toString()))
        .as(err.toString())
        .isZero();
    assertThat(evaluate(ranker, pruned, pairs, grades)).as(err.toString()).isZero();
    JsonNode inOrder = JSON.readTree(out.toString());

    // The same pairs sorted by document, so each query's lines are scattered, behind 3 lines an
    // offset skips, in batches of 5 that cut across queries.
    List<String> lines = Files.readAllLines(pairs);
    List<String> labels = Files.readAllLines(grades);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      order.add(i);
    }
    order.sort(java.util.Comparator.comparing(i -> lines.get(i).split("\t")[1] + i));
    List<String> scattered = new ArrayList<>(List.of("x\ty", "x\tz", "w\tv"));
    List<String> scatteredLabels = new ArrayList<>(List.of("9", "9", "9"));
    order.forEach(
        i -> {
          scattered.add(lines.get(i));
          scatteredLabels.add(labels.get(i));
        });
    Path data = Files.write(dir.resolve("scattered.tsv"), scattered);
    Path dataLabels = Files.write(dir.resolve("scattered-grades.txt"), scatteredLabels);
    List<String> args = new ArrayList<>(List.of(evaluateArgs(ranker, pruned, data, "ranking")));
    args.addAll(List.of("--labels", dataLabels.toString(), "--offset", "3", "--batch-size", "5"));
    assertThat(run(args.toArray(String[]::new))).as(err.toString()).isZero();
    JsonNode moved = JSON.readTree(out.toString());

    assertThat(moved.get("samples").asInt()).isEqualTo(48);
    for (String metric :
        List.of(
            "/fidelity/top1Agreement",
            "/fidelity/top5Overlap",
            "/fidelity/cosineMean",
            "/task/dense/ndcg",
            "/task/candidate/ndcg",
            "/task/candidate/pnr",
            "/task/candidate/accuracy")) {
      assertThat(moved.at(metric).asDouble())
          .as(metric)
          .isCloseTo(inOrder.at(metric).asDouble(), within(1e-4));
    }
  }

  @Test
  void aTokenizerWhosePairsHaveNoDocumentTypeIsRefusedBeforeTraining() throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode json =
        (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(tokenizer.toFile());
    // As RoBERTa-style post-processors do: the second sequence keeps type 0.
    for (JsonNode piece : json.at("/post_processor/pair")) {
      ((com.fasterxml.jackson.databind.node.ObjectNode) piece.elements().next()).put("type_id", 0);
    }
    JSON.writeValue(tokenizer.toFile(), json);

    assertThat(head(encoder(13), dir.resolve("ranker.onnx"))).isNotZero();
    assertThat(err.toString()).contains("training pair 1", "no token of type 1");
  }

  private Path encoder(int opset) {
    ModelProto model = TinyModels.pairEncoder(30522, 8, 12, 1);
    model =
        model.toBuilder()
            .clearOpsetImport()
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
            .build();
    return TinyModels.write(model, dir.resolve("encoder-" + opset + ".onnx"));
  }

  private int head(Path encoder, Path ranker) {
    return run(
        "head",
        "--task",
        "ranking",
        "--dense",
        encoder.toString(),
        "--tokenizer",
        tokenizer.toString(),
        "--train",
        pairs.toString(),
        "--labels",
        grades.toString(),
        "--steps",
        "100",
        "--out",
        ranker.toString(),
        "--json");
  }

  private int evaluate(Path dense, Path candidate, Path data, Path labelsFile) {
    List<String> args = new ArrayList<>(List.of(evaluateArgs(dense, candidate, data, "ranking")));
    if (labelsFile != null) {
      args.addAll(List.of("--labels", labelsFile.toString()));
    }
    return run(args.toArray(String[]::new));
  }

  private static String[] evaluateArgs(Path dense, Path candidate, Path data, String task) {
    return new String[] {
      "evaluate",
      "--dense",
      dense.toString(),
      "--candidate",
      candidate.toString(),
      "--tokenizer",
      dense.resolveSibling("tokenizer.json").toString(),
      "--data",
      data.toString(),
      "--task",
      task,
      "--json"
    };
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return SparsifyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
  }
}
