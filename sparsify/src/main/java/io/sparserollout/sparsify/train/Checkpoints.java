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
 * moments and the step, written atomically (the state file last) to a directory. A checkpoint of a
 * run with other options is refused, not silently mixed in.
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

  /** The saved state, or null when there is none. */
  State load(FineTuner.Options options, List<Tensor> parameters, AdamW optimizer) {
    Path state = dir.resolve("state.json");
    if (!Files.exists(state)) {
      return null;
    }
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
    try {
      Files.createDirectories(dir);
      OutputArchive weights = new OutputArchive();
      for (int i = 0; i < parameters.size(); i++) {
        weights.write("p" + i, parameters.get(i).detach(), false);
      }
      weights.save_to(dir.resolve("weights.pt.tmp").toString());
      OutputArchive moments = new OutputArchive();
      optimizer.save(moments);
      moments.save_to(dir.resolve("optimizer.pt.tmp").toString());
      JSON.writeValue(dir.resolve("state.json.tmp").toFile(), state);
      move("weights.pt");
      move("optimizer.pt");
      move("state.json"); // last: a state file always describes complete tensors
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot write the checkpoint to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The run finished: its output is the model, the checkpoint goes. */
  void delete() {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new SparsifyException("cannot delete the checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }

  private void move(String name) throws IOException {
    Files.move(
        dir.resolve(name + ".tmp"),
        dir.resolve(name),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }
}
