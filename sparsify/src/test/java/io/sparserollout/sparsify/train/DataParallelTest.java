package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.sparsify.ImageModels;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TensorBatch;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataParallelTest {
  @TempDir Path dir;

  /**
   * Two workers, each with half of every batch of 8, adding up their loss divisors and gradients
   * through Gloo, end with the weights one worker reaches on the whole batches: same seed, same
   * data order, equal within float reduction order.
   */
  @ParameterizedTest(name = "task loss from labels {0}, int8 QAT {1}")
  @CsvSource({"false, false", "true, false", "false, true"})
  void twoWorkersEndWithTheWeightsOfOneWorkerOnTheWholeBatch(boolean labels, boolean int8)
      throws Exception {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    TrainingData train =
        labels
            ? FineTunerTest.labelled(FineTunerTest.batches(12, 1))
            : TrainingData.unlabelled(FineTunerTest.batches(12, 1));
    FineTuner.Options options = FineTunerTest.options(false, int8);

    FineTuner.Report one = run(dense, sparse, train, options, DataParallel.Worker.SINGLE, "one");
    int port = freePort();
    CompletableFuture<FineTuner.Report> first =
        CompletableFuture.supplyAsync(
            () ->
                run(
                    dense,
                    sparse,
                    train,
                    options,
                    new DataParallel.Worker(0, 2, "127.0.0.1", port),
                    "two"));
    CompletableFuture<FineTuner.Report> second =
        CompletableFuture.supplyAsync(
            () ->
                run(
                    dense,
                    sparse,
                    train,
                    options,
                    new DataParallel.Worker(1, 2, "127.0.0.1", port),
                    "two"));
    FineTuner.Report two = first.get();
    assertThat(second.get().output()).isEqualTo("(written by worker 0)");

    OnnxModel single = OnnxModel.load(Path.of(one.output()));
    OnnxModel parallel = OnnxModel.load(Path.of(two.output()));
    for (String weight : List.of("ffn.up.weight", "ffn.down.weight")) {
      float[] expected = single.floats(weight);
      float[] actual = parallel.floats(weight);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).as(weight + "[" + i + "]").isCloseTo(expected[i], within(1e-4f));
      }
    }
    assertThat(two.finalFidelity()).isCloseTo(one.finalFidelity(), within(1e-4));
    assertThat(second.get().finalFidelity()).isEqualTo(two.finalFidelity());
  }

  /** The same on image tensors: each worker trains on a slice of every batch's samples. */
  @org.junit.jupiter.api.Test
  void twoWorkersOnImageTensorsEndWithTheWeightsOfOneWorker() throws Exception {
    Path dense = TinyModels.write(ImageModels.classifier(5), dir.resolve("image.onnx"));
    Path sparse = dir.resolve("image-sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    TrainingData train = TrainingData.ofTensors(images(24, 8, 6), 1);
    List<TensorBatch> held = images(8, 8, 7);
    FineTuner.Options options = FineTunerTest.options(false, false);

    FineTuner.Report one =
        run(dense, sparse, train, held, options, DataParallel.Worker.SINGLE, "image-one");
    int port = freePort();
    CompletableFuture<FineTuner.Report> first =
        CompletableFuture.supplyAsync(
            () -> run(dense, sparse, train, held, options, worker(0, port), "image-two"));
    CompletableFuture<FineTuner.Report> second =
        CompletableFuture.supplyAsync(
            () -> run(dense, sparse, train, held, options, worker(1, port), "image-two"));
    FineTuner.Report two = first.get();
    second.get();

    OnnxModel single = OnnxModel.load(Path.of(one.output()));
    OnnxModel parallel = OnnxModel.load(Path.of(two.output()));
    for (String weight : List.of("conv2.w", "fc.w")) {
      float[] expected = single.floats(weight);
      float[] actual = parallel.floats(weight);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).as(weight + "[" + i + "]").isCloseTo(expected[i], within(1e-4f));
      }
    }
    assertThat(two.finalFidelity()).isCloseTo(one.finalFidelity(), within(1e-4));
  }

  /** {@code count} images in batches of {@code size}, each image [3, 8, 8]. */
  private static List<TensorBatch> images(int count, int size, long seed) {
    float[] all = ImageModels.images(count, seed);
    int image = 3 * ImageModels.SIDE * ImageModels.SIDE;
    List<TensorBatch> batches = new java.util.ArrayList<>();
    for (int start = 0; start < count; start += size) {
      float[] part = java.util.Arrays.copyOfRange(all, start * image, (start + size) * image);
      long[] shape = {size, 3, ImageModels.SIDE, ImageModels.SIDE};
      batches.add(
          new TensorBatch(size, Map.of("x", new TensorBatch.Input(shape, FloatBuffer.wrap(part)))));
    }
    return batches;
  }

  /** Workers started with different options would add up unlike sums: refused, by name. */
  @org.junit.jupiter.api.Test
  void workersStartedUnlikeAreRefusedBeforeTheFirstStep() throws Exception {
    Path dense = TinyModels.write(TinyModels.textEncoder(32, 16, 32, 3), dir.resolve("dense.onnx"));
    Path sparse = dir.resolve("sparse.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), sparse);
    TrainingData train = TrainingData.unlabelled(FineTunerTest.batches(12, 1));
    FineTuner.Options options = FineTunerTest.options(false, false);
    FineTuner.Options other =
        new FineTuner.Options(
            options.steps() + 1,
            options.batchSize(),
            options.learningRate(),
            options.weightDecay(),
            options.evalEvery(),
            options.tokenLossWeight(),
            options.layerLossWeight(),
            options.taskLossWeight(),
            options.distillation(),
            options.progressive(),
            options.int8());
    int port = freePort();
    CompletableFuture<FineTuner.Report> first =
        CompletableFuture.supplyAsync(
            () -> run(dense, sparse, train, options, worker(0, port), "a"));
    CompletableFuture<FineTuner.Report> second =
        CompletableFuture.supplyAsync(() -> run(dense, sparse, train, other, worker(1, port), "b"));
    for (CompletableFuture<FineTuner.Report> f : List.of(first, second)) {
      assertThatThrownBy(f::get)
          .hasCauseInstanceOf(SparsifyException.class)
          .hasMessageContaining("the workers were not started alike");
    }
  }

  private static DataParallel.Worker worker(int rank, int port) {
    return new DataParallel.Worker(rank, 2, "127.0.0.1", port);
  }

  @ParameterizedTest(name = "rank {0} of 2")
  @ValueSource(ints = {-1, 2})
  void aRankOutsideTheSetIsRefused(int rank) {
    assertThatThrownBy(() -> new DataParallel.Worker(rank, 2, "127.0.0.1", 1234))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("is not one of 2 workers");
  }

  private FineTuner.Report run(
      Path dense,
      Path init,
      TrainingData train,
      FineTuner.Options options,
      DataParallel.Worker worker,
      String name) {
    return run(dense, init, train, FineTunerTest.batches(4, 2), options, worker, name);
  }

  private FineTuner.Report run(
      Path dense,
      Path init,
      TrainingData train,
      List<? extends Batch> held,
      FineTuner.Options options,
      DataParallel.Worker worker,
      String name) {
    return FineTuner.run(
        new FineTuner.Inputs(
            dense, init, LayerFinder.all(), train, held, dir.resolve(name + ".onnx")),
        options,
        FineTuner.Resume.NONE,
        1,
        line -> {},
        worker);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
