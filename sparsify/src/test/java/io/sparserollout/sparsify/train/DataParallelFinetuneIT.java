package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparserollout.sparsify.TinyModels;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.prune.MagnitudePruner;
import io.sparserollout.sparsify.prune.PruneRun;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel fine-tuning as it runs in a cluster: the packaged CLI as separate worker processes
 * meeting over loopback TCP. Two workers end where one worker ends; a worker killed mid-run takes
 * the set down, and the set started again resumes from rank 0's checkpoint to the same weights.
 */
class DataParallelFinetuneIT {
  private static final int STEPS = 400;
  private static final List<String> WEIGHTS = List.of("ffn.up.weight", "ffn.down.weight");

  @TempDir static Path dir;
  private static Path dense;
  private static Path init;
  private static Path tokenizer;
  private static Path train;
  private static Path heldOut;
  private static OnnxModel single;

  @BeforeAll
  static void oneWorker() throws Exception {
    // Vocabulary as large as the real tokenizer's, so that its ids index the embedding table.
    dense = TinyModels.write(TinyModels.textEncoder(30522, 32, 64, 5), dir.resolve("dense.onnx"));
    init = dir.resolve("init.onnx");
    PruneRun.run(OnnxModel.load(dense), LayerFinder.all(), new MagnitudePruner(), init);
    tokenizer = dir.resolve("tokenizer.json");
    try (InputStream in =
        DataParallelFinetuneIT.class
            .getClassLoader()
            .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tokenizer);
    }
    train = Files.write(dir.resolve("train.txt"), sentences(256, 1));
    heldOut = Files.write(dir.resolve("held-out.txt"), sentences(32, 2));
    Process one = start("one", "c-one", 1, 0, 0);
    assertThat(one.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(one.exitValue()).as(log("one-0")).isZero();
    single = OnnxModel.load(dir.resolve("one.onnx"));
  }

  @Test
  void twoWorkerProcessesStartedAsATrainJobStartsThemEndWithTheWeightsOfOne() throws Exception {
    int port = freePort();
    Process rank0 = startAsTrainJobNode("two", "c-two", 2, 0, port);
    Process rank1 = startAsTrainJobNode("two", "c-two", 2, 1, port);
    assertThat(rank0.waitFor(5, TimeUnit.MINUTES) && rank1.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(rank0.exitValue()).as(log("two-0")).isZero();
    assertThat(rank1.exitValue()).as(log("two-1")).isZero();
    assertSameWeights(OnnxModel.load(dir.resolve("two.onnx")));
  }

  @Test
  void aKilledWorkerTakesTheSetDownAndTheRestartedSetResumesToTheSameWeights() throws Exception {
    int port = freePort();
    Process rank0 = start("resumed", "c-resumed", 2, 0, port);
    Process rank1 = start("resumed", "c-resumed", 2, 1, port);
    Path state = dir.resolve("c-resumed").resolve("latest");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.exists(state) && System.nanoTime() < deadline && rank1.isAlive()) {
      Thread.sleep(20);
    }
    assertThat(rank1.isAlive()).as("worker 1 still training at the first checkpoint").isTrue();
    rank1.destroyForcibly().waitFor();

    // Worker 0 does not wait for the lost peer: its next exchange fails and it exits.
    assertThat(rank0.waitFor(2, TimeUnit.MINUTES)).as(log("resumed-0")).isTrue();
    assertThat(rank0.exitValue()).isNotZero();
    assertThat(log("resumed-0"))
        .contains("worker 0 lost contact with the other workers")
        .contains("start the whole set again; it resumes from the last checkpoint");
    assertThat(dir.resolve("resumed.onnx")).doesNotExist();

    int again = freePort();
    Process restarted0 = start("resumed", "c-resumed", 2, 0, again);
    Process restarted1 = start("resumed", "c-resumed", 2, 1, again);
    assertThat(restarted0.waitFor(5, TimeUnit.MINUTES) && restarted1.waitFor(5, TimeUnit.MINUTES))
        .isTrue();
    assertThat(restarted0.exitValue()).as(log("resumed-0")).isZero();
    assertThat(restarted1.exitValue()).as(log("resumed-1")).isZero();
    assertThat(log("resumed-0")).contains("worker 0: resumed from the checkpoint at step");
    assertThat(log("resumed-1")).contains("worker 1: resumed from the checkpoint at step");
    assertSameWeights(OnnxModel.load(dir.resolve("resumed.onnx")));
  }

  private static void assertSameWeights(OnnxModel actual) {
    for (String weight : WEIGHTS) {
      float[] expected = single.floats(weight);
      float[] values = actual.floats(weight);
      for (int i = 0; i < expected.length; i++) {
        assertThat(values[i]).as(weight + "[" + i + "]").isCloseTo(expected[i], within(1e-4f));
      }
    }
  }

  /**
   * A worker told who it is only by the variables Kubeflow Trainer's torch runtime sets on a
   * TrainJob's node pods (torchrun's arguments), no flags.
   */
  private static Process startAsTrainJobNode(
      String name, String checkpoint, int nodes, int rank, int port) throws IOException {
    ProcessBuilder builder = command(name, checkpoint);
    Map<String, String> env = builder.environment();
    List.of("WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT").forEach(env::remove);
    env.put("PET_NNODES", Integer.toString(nodes));
    env.put("PET_NPROC_PER_NODE", "1");
    env.put("PET_NODE_RANK", Integer.toString(rank));
    env.put("PET_MASTER_ADDR", "127.0.0.1");
    env.put("PET_MASTER_PORT", Integer.toString(port));
    env.put("JOB_COMPLETION_INDEX", Integer.toString(rank));
    return logged(builder, name, rank).start();
  }

  /** One worker process of the run {@code name}; its stderr goes to NAME-RANK.log. */
  private static Process start(String name, String checkpoint, int workers, int rank, int port)
      throws IOException {
    ProcessBuilder builder = command(name, checkpoint);
    if (workers > 1) {
      builder
          .command()
          .addAll(
              List.of(
                  "--workers",
                  Integer.toString(workers),
                  "--rank",
                  Integer.toString(rank),
                  "--master",
                  "127.0.0.1:" + port));
    }
    return logged(builder, name, rank).start();
  }

  private static ProcessBuilder logged(ProcessBuilder builder, String name, int rank) {
    return builder
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(
            ProcessBuilder.Redirect.appendTo(dir.resolve(name + "-" + rank + ".log").toFile()));
  }

  /** The fine-tune of the run {@code name}, without the worker's identity. */
  private static ProcessBuilder command(String name, String checkpoint) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "java",
                "-jar",
                System.getProperty("sparsify.jar"),
                "finetune",
                "--dense",
                dense.toString(),
                "--init",
                init.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--train",
                train.toString(),
                "--held-out",
                heldOut.toString(),
                "--out",
                dir.resolve(name + ".onnx").toString(),
                "--steps",
                Integer.toString(STEPS),
                "--batch-size",
                "8",
                "--max-length",
                "16",
                "--eval-every",
                "100",
                "--checkpoint",
                dir.resolve(checkpoint).toString(),
                "--checkpoint-every",
                "50",
                "--threads",
                "1"));
    return new ProcessBuilder(command);
  }

  private static String log(String name) {
    try {
      return Files.readString(dir.resolve(name + ".log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Short sentences of common English words, different for each seed. */
  private static List<String> sentences(int count, long seed) {
    String[] words =
        "the a model sparse dense weight layer runs fast slow keeps two four of every tensor core"
            .split(" ");
    Random random = new Random(seed);
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StringBuilder line = new StringBuilder();
      int length = 3 + random.nextInt(8);
      for (int w = 0; w < length; w++) {
        line.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
      }
      lines.add(line.toString());
    }
    return lines;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
