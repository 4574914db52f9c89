package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.eval.Evaluator;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.text.TokenBatch;
import io.sparserollout.sparsify.verify.Verifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FineTunerTest {
  @Test
  void distillationRecoversFidelityAndKeepsTheMasks(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("tuned.onnx");

    FineTuner.Report report =
        tune(dense, sparse, out, options(false, false), FineTuner.Resume.NONE, line -> {});

    assertThat(report.maskedLayers()).isEqualTo(2);
    // The embedding table is a lookup: it stays frozen, only the two layers train.
    assertThat(report.trainedTensors()).isEqualTo(2);
    assertThat(OnnxModel.load(out).floats("embeddings.word"))
        .containsExactly(OnnxModel.load(sparse).floats("embeddings.word"));
    assertThat(report.history()).extracting(FineTuner.Checkpoint::step).containsExactly(20, 40, 60);
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    var verified = Verifier.verify(OnnxModel.load(out));
    assertThat(verified.sparseLayers()).isEqualTo(2);
    assertThat(verified.violations()).isEmpty();
  }

  /**
   * A classifier (an encoder with a head grafted by sparsify head: pooling over the mask, Cast,
   * Reshape, ReduceSum, Max, Gemm): distilled on its logits, its head pruned and trained too, from
   * opset 11 (ReduceSum's axes an attribute) and 13 (an input); labels are refused.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {11, 13})
  void aClassifierRecoversFidelityOnItsLogitsAndKeepsTheMasks(int opset, @TempDir Path dir) {
    var encoder =
        TinyModels.textEncoder(32, 16, 32, 3).toBuilder()
            .clearOpsetImport()
            .addOpsetImport(
                ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder()
                    .setDomain("")
                    .setVersion(opset))
            .build();
    OnnxModel classifier = OnnxModel.load(TinyModels.write(encoder, dir.resolve("enc.onnx")));
    Random random = new Random(5);
    float[] weight = new float[4 * 16];
    for (int i = 0; i < weight.length; i++) {
      weight[i] = (float) random.nextGaussian();
    }
    io.sparserollout.sparsify.head.HeadGraft.attach(
        classifier,
        new io.sparserollout.sparsify.head.SoftmaxRegression.Weights(weight, new float[4], 4, 16),
        List.of("a", "b", "c", "d"));
    Path dense = dir.resolve("dense.onnx");
    classifier.save(dense);
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("tuned.onnx");

    FineTuner.Report report =
        tune(dense, sparse, out, options(false, false), FineTuner.Resume.NONE, line -> {});

    assertThat(report.maskedLayers()).isEqualTo(3); // the encoder's two layers and the head
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    var verified = Verifier.verify(OnnxModel.load(out));
    assertThat(verified.sparseLayers()).isEqualTo(3);
    assertThat(verified.violations()).isEmpty();

    // Pruned with the head left dense: the head trains dense and is not counted as kept 2:4.
    Path headDense = dir.resolve("head-dense.onnx");
    PruneRun.run(
        OnnxModel.load(dense),
        new LayerFinder(List.of(), List.of("^classifier\\.")),
        new MagnitudePruner(),
        headDense);
    FineTuner.Report keptDense =
        tune(
            dense,
            headDense,
            dir.resolve("tuned-head-dense.onnx"),
            options(false, false),
            FineTuner.Resume.NONE,
            line -> {});
    assertThat(keptDense.maskedLayers()).isEqualTo(2);
    float[] head = OnnxModel.load(dir.resolve("tuned-head-dense.onnx")).floats("classifier.weight");
    assertThat(head).doesNotContain(0f).isNotEqualTo(weight);
    assertThatThrownBy(
            () ->
                tune(
                    dense,
                    sparse,
                    dir.resolve("labelled.onnx"),
                    labelled(batches(12, 1)),
                    options(false, false),
                    FineTuner.Resume.NONE,
                    line -> {}))
        .hasMessageContaining("is a classifier")
        .hasMessageContaining("not yet for classifiers");
  }

  /** A text CNN: its two convolutions train through libtorch and keep 2:4 along input channels. */
  @Test
  void aConvolutionalModelRecoversFidelityAndKeepsTheMasks(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textCnn(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("tuned.onnx");

    FineTuner.Report report =
        tune(dense, sparse, out, options(false, false), FineTuner.Resume.NONE, line -> {});

    assertThat(report.maskedLayers()).isEqualTo(2);
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    var verified = Verifier.verify(OnnxModel.load(out));
    assertThat(verified.sparseLayers()).isEqualTo(2);
    assertThat(verified.violations()).isEmpty();
  }

  @ParameterizedTest(name = "int8 QAT {0}, task loss from labels {1}")
  @CsvSource({"false, false", "true, false", "false, true"})
  void aRunKilledMidwayResumesFromItsCheckpointAndEndsTheSame(
      boolean int8, boolean labelled, @TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    FineTuner.Options options = options(false, int8);
    TrainingData data =
        labelled ? labelled(batches(12, 1)) : TrainingData.unlabelled(batches(12, 1));
    FineTuner.Report straight =
        tune(dense, sparse, dir.resolve("a.onnx"), data, options, FineTuner.Resume.NONE, l -> {});

    FineTuner.Resume resume = new FineTuner.Resume(dir.resolve("ckpt"), 20);
    assertThatThrownBy(
            () ->
                tune(
                    dense,
                    sparse,
                    dir.resolve("b.onnx"),
                    data,
                    options,
                    resume,
                    line -> {
                      if (line.startsWith("step 40/")) {
                        throw new IllegalStateException("preempted");
                      }
                    }))
        .hasMessage("preempted");
    assertThat(dir.resolve("ckpt/latest")).exists();
    List<String> lines = new ArrayList<>();
    FineTuner.Report resumed =
        tune(dense, sparse, dir.resolve("b.onnx"), data, options, resume, lines::add);
    assertThat(lines).contains("resumed from the checkpoint at step 20");
    assertThat(resumed.finalFidelity())
        .isCloseTo(straight.finalFidelity(), org.assertj.core.data.Offset.offset(1e-4));
    assertThat(resumed.initialFidelity()).isEqualTo(straight.initialFidelity());
    assertThat(dir.resolve("ckpt")).doesNotExist();

    FineTuner.Resume other = new FineTuner.Resume(dir.resolve("other"), 20);
    try {
      java.nio.file.Files.createDirectories(other.directory());
      new com.fasterxml.jackson.databind.ObjectMapper()
          .writeValue(
              other.directory().resolve("state.json").toFile(),
              new Checkpoints.State(
                  20,
                  new FineTuner.Options(99, 8, 1e-2, 0.0, 20, 1.0, 1.0, 1.0, true, false, false),
                  0.5,
                  List.of(),
                  null));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThatThrownBy(
            () -> tune(dense, sparse, dir.resolve("c.onnx"), data, options, other, line -> {}))
        .hasMessageContaining("from a run with other options");
  }

  @Test
  void fromDenseWeightsPrunesOneShotOrProgressivelyAndEndsAt2to4(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    for (boolean progressive : new boolean[] {false, true}) {
      Path out = dir.resolve("tuned-" + progressive + ".onnx");
      List<String> lines = new ArrayList<>();
      FineTuner.Report report =
          tune(dense, null, out, options(progressive, false), FineTuner.Resume.NONE, lines::add);

      assertThat(report.start()).isEqualTo(progressive ? "progressive" : "magnitude");
      assertThat(report.initialFidelity()).isLessThan(1.0);
      var verified = Verifier.verify(OnnxModel.load(out));
      assertThat(verified.sparseLayers()).isEqualTo(2);
      assertThat(verified.violations()).isEmpty();
      if (progressive) {
        assertThat(lines).anyMatch(l -> l.startsWith("step 30: pruned to 2:4"));
      }
    }
  }

  @Test
  void aProgressiveScheduleRefusesAPrunedInit(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    assertThatThrownBy(
            () ->
                tune(
                    dense,
                    dense,
                    dir.resolve("x.onnx"),
                    options(true, false),
                    FineTuner.Resume.NONE,
                    line -> {}))
        .hasMessageContaining("drop --init");
  }

  @Test
  void int8QatExportsQdqThatOnnxRuntimeRunsAtTheFidelityTheTrainerReported(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("qat.onnx");
    List<String> lines = new ArrayList<>();

    FineTuner.Report report =
        tune(dense, sparse, out, options(false, true), FineTuner.Resume.NONE, lines::add);

    assertThat(lines).contains("int8 QAT: 2 activation scales calibrated");
    assertThat(report.finalFidelity()).isGreaterThan(report.initialFidelity() + 0.01);
    OnnxModel exported = OnnxModel.load(out);
    assertThat(exported.proto().getGraph().getNodeList())
        .filteredOn(n -> n.getOpType().equals("QuantizeLinear"))
        .hasSize(4);
    assertThat(Verifier.verify(exported).sparseLayers()).isEqualTo(2);
    double inOnnxRuntime = Evaluator.evaluate(dense, out, batches(4, 2), 1).fidelity().cosineMean();
    assertThat(inOnnxRuntime).isCloseTo(report.finalFidelity(), Offset.offset(0.005));
  }

  /**
   * A layer left dense (excluded from pruning) is still exported as int8, so it must train under
   * fake quantization too: what the trainer reports is what ONNX Runtime then computes.
   */
  @Test
  void int8QatFakeQuantizesEveryLayerItExportsAsInt8AlsoOneLeftDense(@TempDir Path dir) {
    // One of ffn.down's input channels 300 times the others: int8 of its activation (one scale
    // per tensor) costs fidelity, which a trainer that left the layer in float would not see.
    var model = TinyModels.textEncoder(32, 16, 32, 3);
    java.util.Random random = new java.util.Random(5);
    int[] at = {0};
    var outlier =
        TinyModels.floats(
            "ffn.up.weight",
            new long[] {16, 32},
            () -> random.nextGaussian() * 0.5 * (at[0]++ % 32 == 0 ? 300 : 1));
    var graph = model.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      if (graph.getInitializer(i).getName().equals("ffn.up.weight")) {
        graph.setInitializer(i, outlier);
      }
    }
    Path dense =
        TinyModels.write(model.toBuilder().setGraph(graph).build(), dir.resolve("dense.onnx"));
    LayerFinder upOnly = new LayerFinder(List.of(), List.of("^ffn\\.down"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), upOnly, new MagnitudePruner(), sparse);
    Path out = dir.resolve("qat.onnx");

    FineTuner.Report report =
        FineTuner.run(
            new FineTuner.Inputs(
                dense, sparse, upOnly, TrainingData.unlabelled(batches(12, 1)), batches(4, 2), out),
            options(false, true),
            FineTuner.Resume.NONE,
            1,
            line -> {});

    OnnxModel exported = OnnxModel.load(out);
    assertThat(exported.proto().getGraph().getNodeList())
        .filteredOn(n -> n.getOpType().equals("QuantizeLinear"))
        .hasSize(4); // both layers' activation and weight
    assertThat(Verifier.verify(exported).sparseLayers()).isEqualTo(1);
    double inOnnxRuntime = Evaluator.evaluate(dense, out, batches(4, 2), 1).fidelity().cosineMean();
    // Left in float in training, the layer cost 0.001 in ONNX Runtime that the trainer never saw.
    assertThat(inOnnxRuntime).isCloseTo(report.finalFidelity(), Offset.offset(0.0003));
  }

  @Test
  void aTaskLossAloneTrainsTheEmbeddingsApartByClassAndKeepsTheMasks(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    Path out = dir.resolve("task.onnx");
    FineTuner.Options taskOnly =
        new FineTuner.Options(60, 8, 1e-2, 0.0, 20, 1.0, 1.0, 1.0, false, false, false);

    FineTuner.Report report =
        tune(
            dense, sparse, out, labelled(batches(12, 1)), taskOnly, FineTuner.Resume.NONE, l -> {});

    List<FineTuner.Checkpoint> history = report.history();
    assertThat(history.get(history.size() - 1).loss()).isLessThan(history.get(0).loss());
    assertThat(Verifier.verify(OnnxModel.load(out)).violations()).isEmpty();
    List<TokenBatch> held = batches(4, 2);
    List<String> classes = new ArrayList<>();
    for (TokenBatch b : held) {
      for (int label : classesOf(b)) {
        classes.add(label == 0 ? "low" : "high");
      }
    }
    var task = Evaluator.evaluate(dense, out, held, classes, 5, 1).task();
    assertThat(task.candidate().accuracy()).isGreaterThan(task.dense().accuracy());
  }

  @Test
  void withoutDistillationLabelsAreRequired(@TempDir Path dir) {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    FineTuner.Options taskOnly =
        new FineTuner.Options(60, 8, 1e-2, 0.0, 20, 1.0, 1.0, 1.0, false, false, false);

    assertThatThrownBy(
            () ->
                tune(
                    dense,
                    null,
                    dir.resolve("x.onnx"),
                    TrainingData.unlabelled(batches(12, 1)),
                    taskOnly,
                    FineTuner.Resume.NONE,
                    l -> {}))
        .hasMessageContaining("the task loss, which needs labels");
  }

  /** Labels each sentence by its first token: ids below 16 are class 0, the others class 1. */
  static TrainingData labelled(List<TokenBatch> batches) {
    return new TrainingData(
        List.copyOf(batches),
        List.of("high", "low"),
        batches.stream().map(FineTunerTest::classesOf).toList());
  }

  private static int[] classesOf(TokenBatch batch) {
    int[] classes = new int[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      classes[i] = batch.ids()[i * batch.length()] < 16 ? 1 : 0;
    }
    return classes;
  }

  /** Fine-tunes on 12 training batches, measured on 4 others. */
  private static FineTuner.Report tune(
      Path dense,
      Path init,
      Path out,
      FineTuner.Options options,
      FineTuner.Resume resume,
      Consumer<String> progress) {
    return tune(
        dense, init, out, TrainingData.unlabelled(batches(12, 1)), options, resume, progress);
  }

  private static FineTuner.Report tune(
      Path dense,
      Path init,
      Path out,
      TrainingData train,
      FineTuner.Options options,
      FineTuner.Resume resume,
      Consumer<String> progress) {
    return FineTuner.run(
        new FineTuner.Inputs(dense, init, LayerFinder.all(), train, batches(4, 2), out),
        options,
        resume,
        1,
        progress);
  }

  static FineTuner.Options options(boolean progressive, boolean int8) {
    return new FineTuner.Options(60, 8, 1e-2, 0.0, 20, 1.0, 1.0, 1.0, true, progressive, int8);
  }

  /** Random token ids, some rows padded. */
  static List<TokenBatch> batches(int count, long seed) {
    Random random = new Random(seed);
    List<TokenBatch> out = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      int size = 8;
      int length = 6;
      long[] ids = new long[size * length];
      long[] mask = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        boolean padded = i % length >= length - (i / length) % 3;
        ids[i] = padded ? 0 : 1 + random.nextInt(31);
        mask[i] = padded ? 0 : 1;
      }
      out.add(new TokenBatch(size, length, ids, mask, new long[ids.length]));
    }
    return out;
  }
}
