package io.sparserollout.sparsify.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;

/**
 * Where a fine-tuning run stands, so that a preempted Job resumes: the trained tensors, the AdamW
 * moments and the step. Each checkpoint is a folder {@code step-N} written whole under a temporary
 * name and renamed, then named in the file {@code latest} (replaced by a rename): a process killed
 * at any moment leaves the previous checkpoint or the new one, never a mix. A checkpoint of a run
 * with other options is refused, not silently mixed in.
 */
final class Checkpoints {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What is saved beside the tensors; {@code options} identifies the run; {@code activationScales}
   * are the int8 QAT scales it trains with (null without QAT).
   */
  record State(
      int step,
      FineTuner.Options options,
      double initialFidelity,
      List<FineTuner.Checkpoint> history,
      Map<String, Float> activationScales) {}

  private final Path dir;

  Checkpoints(Path dir) {
    this.dir = dir;
  }

  private static final String LATEST = "latest";

  /** The saved state, or null when there is none. */
  State load(FineTuner.Options options, List<Tensor> parameters, AdamW optimizer) {
    try {
      Path latest = dir.resolve(LATEST);
      // Before step folders, a checkpoint's files lay in the directory itself.
      Path saved = Files.exists(latest) ? dir.resolve(Files.readString(latest).trim()) : dir;
      return Files.exists(saved.resolve("state.json"))
          ? load(saved, options, parameters, optimizer)
          : null;
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot read the checkpoint in " + dir + ": " + e.getMessage(), e);
    }
  }

  private State load(
      Path dir, FineTuner.Options options, List<Tensor> parameters, AdamW optimizer) {
    Path state = dir.resolve("state.json");
    try {
      State saved = JSON.readValue(state.toFile(), State.class);
      if (!saved.options().equals(options)) {
        throw new SparsifyException(
            "the checkpoint in "
                + dir
                + " is from a run with other options ("
                + saved.options()
                + "); delete it or give another --checkpoint directory");
      }
      InputArchive weights = new InputArchive();
      weights.load_from(dir.resolve("weights.pt").toString());
      try (NoGradGuard noGrad = new NoGradGuard()) {
        for (int i = 0; i < parameters.size(); i++) {
          Tensor value = new Tensor();
          weights.read("p" + i, value);
          parameters.get(i).copy_(value);
        }
      }
      InputArchive moments = new InputArchive();
      moments.load_from(dir.resolve("optimizer.pt").toString());
      optimizer.load(moments);
      return saved;
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot read the checkpoint in " + dir + ": " + e.getMessage(), e);
    }
  }

  void save(State state, List<Tensor> parameters, AdamW optimizer) {
    String name = "step-" + state.step();
    Path next = dir.resolve(name + ".tmp");
    try {
      Files.createDirectories(dir);
      remove(next);
      Files.createDirectories(next);
      OutputArchive weights = new OutputArchive();
      for (int i = 0; i < parameters.size(); i++) {
        weights.write("p" + i, parameters.get(i).detach(), false);
      }
      weights.save_to(next.resolve("weights.pt").toString());
      OutputArchive moments = new OutputArchive();
      optimizer.save(moments);
      moments.save_to(next.resolve("optimizer.pt").toString());
      JSON.writeValue(next.resolve("state.json").toFile(), state);
      remove(dir.resolve(name));
      Files.move(next, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
      Files.writeString(dir.resolve(LATEST + ".tmp"), name);
      Files.move(
          dir.resolve(LATEST + ".tmp"),
          dir.resolve(LATEST),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      // Only now are the older checkpoints (and files of the older layout) no longer needed.
      try (Stream<Path> entries = Files.list(dir)) {
        for (Path entry : entries.toList()) {
          String file = entry.getFileName().toString();
          if (!file.equals(name) && !file.equals(LATEST)) {
            remove(entry);
          }
        }
      }
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot write the checkpoint to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The run finished: its output is the model, the checkpoint goes. */
  void delete() {
    try {
      remove(dir);
    } catch (IOException e) {
      throw new SparsifyException("cannot delete the checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void remove(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> files = Files.walk(path)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
