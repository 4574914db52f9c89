package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Sparse fine-tuning by knowledge distillation: the 2:4 student (run by libtorch from its own ONNX
 * graph) learns the dense teacher's mean-pooled sentence embeddings (MiniLM-style last-layer
 * distillation), with every pruned weight held at exactly zero by its fixed mask. The teacher runs
 * in ONNX Runtime. Writes the same graph with the new weights.
 */
public final class FineTuner {
  /** How to train. */
  public record Options(
      int steps, int batchSize, double learningRate, double weightDecay, int evalEvery) {}

  /** Where checkpoints go (null: none) and how often; a run finds its own there and resumes. */
  public record Resume(Path directory, int every) {
    public static final Resume NONE = new Resume(null, Integer.MAX_VALUE);
  }

  /** One held-out measurement. */
  public record Checkpoint(int step, double loss, double fidelity, double seconds) {}

  /** What the run did and reached. */
  public record Report(
      String output,
      int steps,
      int trainedTensors,
      int maskedLayers,
      double initialFidelity,
      double finalFidelity,
      List<Checkpoint> history,
      double seconds) {}

  private FineTuner() {}

  public static Report run(
      Path dense,
      Path init,
      List<TokenBatch> trainBatches,
      List<TokenBatch> evalBatches,
      Path out,
      Options options,
      Resume resume,
      int threads,
      Consumer<String> progress) {
    torch.set_num_threads(threads);
    long start = System.nanoTime();
    OnnxModel student = OnnxModel.load(init);
    List<PrunableLayer> layers = LayerFinder.all().find(student).prunable();
    try (OrtModel teacher = OrtModel.open(dense, threads);
        TorchGraph graph = TorchGraph.of(student)) {
      Map<String, Tensor> masks = new LinkedHashMap<>();
      for (PrunableLayer layer : layers) {
        Tensor weight = graph.initializers().get(layer.weight());
        masks.put(
            layer.weight(),
            weight.ne(new org.bytedeco.pytorch.Scalar(0f)).to(torch.ScalarType.Float));
      }
      List<Tensor> parameters = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
        if (e.getValue().is_floating_point() && e.getValue().numel() > 1) {
          e.getValue().requires_grad_(true);
          parameters.add(e.getValue());
          names.add(e.getKey());
        }
      }
      TensorVector trainable = new TensorVector(parameters.toArray(Tensor[]::new));
      AdamWOptions adamW = new AdamWOptions(options.learningRate());
      adamW.weight_decay().put(options.weightDecay());
      AdamW optimizer = new AdamW(trainable, adamW);

      List<float[][]> evalTargets = new ArrayList<>();
      for (TokenBatch b : evalBatches) {
        evalTargets.add(teacher.embed(b));
      }
      double initial = fidelity(graph, evalBatches, evalTargets);
      progress.accept(String.format("step 0: held-out fidelity %.4f", initial));
      List<Checkpoint> history = new ArrayList<>();
      double recentLoss = Double.NaN;
      Checkpoints checkpoints =
          resume.directory() == null ? null : new Checkpoints(resume.directory());
      int first = 1;
      Checkpoints.State saved =
          checkpoints == null ? null : checkpoints.load(options, parameters, optimizer);
      if (saved != null) {
        first = saved.step() + 1;
        history.addAll(saved.history());
        progress.accept("resumed from the checkpoint at step " + saved.step());
      }
      for (int step = first; step <= options.steps(); step++) {
        TokenBatch batch = trainBatches.get((step - 1) % trainBatches.size());
        // Linear warm-up over the first 10% of steps, then linear decay to zero.
        double warm = Math.max(1, options.steps() / 10.0);
        double scale =
            step <= warm
                ? step / warm
                : Math.max(0, (options.steps() - step) / (options.steps() - warm));
        adamW.set_lr(options.learningRate() * scale);
        try (PointerScope scope = new PointerScope()) {
          Tensor target = pooledTarget(teacher.embed(batch));
          Tensor pooled = pooled(graph, batch);
          Tensor loss =
              torch
                  .cosine_similarity(pooled, target, 1, 1e-8)
                  .mean()
                  .neg()
                  .add(new org.bytedeco.pytorch.Scalar(1f));
          optimizer.zero_grad();
          loss.backward();
          torch.clip_grad_norm_(trainable, 1.0, 2.0, false);
          optimizer.step();
          try (NoGradGuard noGrad = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> m : masks.entrySet()) {
              graph.initializers().get(m.getKey()).mul_(m.getValue());
            }
          }
          recentLoss =
              Double.isNaN(recentLoss)
                  ? loss.item_float()
                  : 0.9 * recentLoss + 0.1 * loss.item_float();
        }
        if (step % options.evalEvery() == 0 || step == options.steps()) {
          double fidelity = fidelity(graph, evalBatches, evalTargets);
          double seconds = (System.nanoTime() - start) / 1e9;
          history.add(new Checkpoint(step, recentLoss, fidelity, seconds));
          double eta = seconds / step * (options.steps() - step);
          progress.accept(
              String.format(
                  "step %d/%d: loss %.4f, held-out fidelity %.4f, %.0f s, ETA %.0f s",
                  step, options.steps(), recentLoss, fidelity, seconds, eta));
        }
        if (checkpoints != null && step % resume.every() == 0 && step < options.steps()) {
          checkpoints.save(
              new Checkpoints.State(step, options, List.copyOf(history)), parameters, optimizer);
        }
      }
      for (String name : names) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
          student.setFloats(name, TorchTensors.toFloats(graph.initializers().get(name).detach()));
        }
      }
      student.save(out);
      if (checkpoints != null) {
        checkpoints.delete();
      }
      double last = history.isEmpty() ? initial : history.get(history.size() - 1).fidelity();
      return new Report(
          out.toString(),
          options.steps(),
          names.size(),
          masks.size(),
          round(initial),
          round(last),
          history,
          round((System.nanoTime() - start) / 1e9));
    }
  }

  /** Mean over the held-out sentences of the cosine between student and teacher embeddings. */
  static double fidelity(TorchGraph graph, List<TokenBatch> batches, List<float[][]> targets) {
    double sum = 0;
    int count = 0;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < batches.size(); i++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor cos =
              torch.cosine_similarity(
                  pooled(graph, batches.get(i)), pooledTarget(targets.get(i)), 1, 1e-8);
          for (float c : TorchTensors.toFloats(cos)) {
            sum += c;
            count++;
          }
        }
      }
    }
    return sum / Math.max(count, 1);
  }

  /** Mean of the first output over the real (unmasked) tokens: [batch, hidden]. */
  static Tensor pooled(TorchGraph graph, TokenBatch batch) {
    Tensor hidden = graph.forward(graph.feeds(batch), List.of()).values().iterator().next();
    Tensor mask =
        Tensor.create(batch.attentionMask(), batch.size(), batch.length())
            .to(torch.ScalarType.Float)
            .unsqueeze(-1);
    ScalarTypeOptional none = new ScalarTypeOptional();
    return hidden
        .mul(mask)
        .mean(new long[] {1}, false, none)
        .div(mask.mean(new long[] {1}, false, none));
  }

  private static Tensor pooledTarget(float[][] rows) {
    int dim = rows[0].length;
    float[] flat = new float[rows.length * dim];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * dim, dim);
    }
    return Tensor.create(flat, rows.length, dim);
  }

  private static double round(double value) {
    return Math.round(value * 10000) / 10000.0;
  }
}
