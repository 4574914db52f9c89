package io.sparserollout.sparsify.text;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparserollout.sparsify.SparsifyException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A text encoder (BERT-style inputs) in ONNX Runtime on the CPU. */
public final class OrtModel implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final String IDS = "input_ids";
  private static final String MASK = "attention_mask";
  private static final String TYPES = "token_type_ids";

  /** A float output with its shape. */
  public record FloatTensor(long[] shape, float[] data) {}

  private final OrtSession session;
  private final String name;

  private OrtModel(OrtSession session, String name) {
    this.session = session;
    this.name = name;
  }

  public static OrtModel open(Path file, int threads) {
    try {
      return new OrtModel(ENV.createSession(file.toString(), options(threads)), file.toString());
    } catch (OrtException e) {
      throw new SparsifyException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
    }
  }

  public static OrtModel open(byte[] model, String name, int threads) {
    try {
      return new OrtModel(ENV.createSession(model, options(threads)), name);
    } catch (OrtException e) {
      throw new SparsifyException("ONNX Runtime cannot load " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * A short-lived session that exposes intermediate activations: basic graph optimizations only,
   * since such a session runs a few batches and the full optimizer costs more than it saves.
   */
  public static OrtModel openForCapture(byte[] model, int threads) {
    try {
      return new OrtModel(ENV.createSession(model, captureOptions(threads)), "calibration model");
    } catch (OrtException e) {
      throw new SparsifyException(
          "ONNX Runtime cannot load the calibration model: " + e.getMessage(), e);
    }
  }

  /** Options for a session that runs a few batches once: basic graph optimizations only. */
  public static OrtSession.SessionOptions captureOptions(int threads) throws OrtException {
    OrtSession.SessionOptions options = options(threads);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
    return options;
  }

  private static OrtSession.SessionOptions options(int threads) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(threads);
    options.setInterOpNumThreads(1);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return options;
  }

  /** The float32 outputs in order, read once from the session: task tensor's every batch. */
  private Set<String> comparedOutputs;

  public String firstOutput() {
    return session.getOutputNames().iterator().next();
  }

  /** Runs one batch and returns the named outputs. */
  public Map<String, FloatTensor> run(Batch batch, Set<String> outputs) {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      if (batch instanceof TokenBatch tokens) {
        putTokens(tokens, inputs);
      } else {
        putTensors((TensorBatch) batch, inputs);
      }
      try (OrtSession.Result result = session.run(inputs, outputs)) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (String output : outputs) {
          OnnxTensor tensor = (OnnxTensor) result.get(output).orElseThrow();
          FloatBuffer buffer = tensor.getFloatBuffer();
          float[] data = new float[buffer.remaining()];
          buffer.get(data);
          out.put(output, new FloatTensor(tensor.getInfo().getShape(), data));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new SparsifyException("ONNX Runtime failed on " + name + ": " + e.getMessage(), e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private void putTokens(TokenBatch batch, Map<String, OnnxTensor> inputs) throws OrtException {
    if (!session.getInputNames().contains(IDS)) {
      throw new SparsifyException(
          name
              + " does not take text: it has no input_ids input (inputs: "
              + session.getInputNames()
              + "); give it tensors, an .npz file of arrays named after its inputs");
    }
    long[] shape = {batch.size(), batch.length()};
    inputs.put(IDS, OnnxTensor.createTensor(ENV, LongBuffer.wrap(batch.ids()), shape));
    if (session.getInputNames().contains(MASK)) {
      inputs.put(MASK, OnnxTensor.createTensor(ENV, LongBuffer.wrap(batch.attentionMask()), shape));
    }
    if (session.getInputNames().contains(TYPES)) {
      inputs.put(TYPES, OnnxTensor.createTensor(ENV, LongBuffer.wrap(batch.typeIds()), shape));
    }
  }

  private void putTensors(TensorBatch batch, Map<String, OnnxTensor> inputs) throws OrtException {
    Set<String> expected = session.getInputNames();
    if (!expected.equals(batch.inputs().keySet())) {
      throw new SparsifyException(
          name
              + " takes the inputs "
              + expected
              + "; the data holds the arrays "
              + batch.inputs().keySet()
              + " (name each array after the input it feeds)");
    }
    for (Map.Entry<String, TensorBatch.Input> input : batch.inputs().entrySet()) {
      inputs.put(input.getKey(), tensor(input.getValue()));
    }
  }

  /** An ONNX Runtime tensor of an input's values, as their element type gives. */
  public static OnnxTensor tensor(TensorBatch.Input input) throws OrtException {
    if (input.values() instanceof FloatBuffer f) {
      return OnnxTensor.createTensor(ENV, f.duplicate(), input.shape());
    }
    if (input.values() instanceof LongBuffer l) {
      return OnnxTensor.createTensor(ENV, l.duplicate(), input.shape());
    }
    return OnnxTensor.createTensor(
        ENV, ((java.nio.IntBuffer) input.values()).duplicate(), input.shape());
  }

  /** The first output's values as they are, whatever its shape. */
  public float[] firstOutput(Batch batch) {
    return run(batch, Set.of(firstOutput())).get(firstOutput()).data();
  }

  /**
   * One row per sentence of the first output, read by the rank it has (not the one the model
   * declares, which may be missing or wrong): a ranker's one score per pair as a row of one, a
   * classifier's logits [batch, classes] as they are, an encoder's hidden states [batch, sequence,
   * hidden] mean-pooled (tokens only: tensors give no tokens to pool over).
   */
  public float[][] rows(Batch batch) {
    FloatTensor out = run(batch, Set.of(firstOutput())).get(firstOutput());
    if (out.shape().length == 1 || (out.shape().length == 2 && out.shape()[1] == 1)) {
      return scoreRows(out, batch);
    }
    return out.shape().length != 2 && batch instanceof TokenBatch tokens
        ? pooledRows(out, tokens)
        : logitRows(out, batch);
  }

  /** Whether the first output, as this batch produces it, is a classifier's [batch, classes]. */
  public boolean answersWithLogits(Batch batch) {
    return run(batch, Set.of(firstOutput())).get(firstOutput()).shape().length == 2;
  }

  /**
   * One row per sample of what the task compares: pooled embeddings, logits as they are, or a
   * ranker's one score per pair.
   */
  public float[][] outputs(Batch batch, io.sparserollout.stage.ModelTask task) {
    return switch (task) {
      case CLASSIFICATION -> logits(batch);
      case RANKING -> scores(batch);
      case EMBEDDING -> embed(tokensToPool(batch));
      case TENSOR ->
          throw new IllegalStateException("task tensor compares each output apart: rawOutputs");
    };
  }

  /**
   * Every float32 output of one batch, in the model's output order: what task tensor compares,
   * output by output. An output whose first dimension is not the batch is refused.
   */
  public Map<String, FloatTensor> rawOutputs(Batch batch) {
    if (comparedOutputs == null) {
      comparedOutputs = new java.util.LinkedHashSet<>(floatOutputs());
    }
    Map<String, FloatTensor> outputs = run(batch, comparedOutputs);
    outputs.forEach((output, values) -> requireBatchFirst(output, values, batch));
    return outputs;
  }

  private void requireBatchFirst(String output, FloatTensor values, Batch batch) {
    if (values.shape().length == 0 || values.shape()[0] != batch.size()) {
      throw new SparsifyException(
          name
              + ": task tensor compares each sample's values of every output, and output "
              + output
              + " is "
              + java.util.Arrays.toString(values.shape())
              + " for a batch of "
              + batch.size()
              + " (its first dimension must be the batch)");
    }
  }

  /** The float32 outputs, in the model's order: other types are not compared. */
  private java.util.List<String> floatOutputs() {
    try {
      java.util.List<String> names = new java.util.ArrayList<>();
      for (Map.Entry<String, ai.onnxruntime.NodeInfo> output : session.getOutputInfo().entrySet()) {
        if (output.getValue().getInfo() instanceof ai.onnxruntime.TensorInfo info
            && info.type == ai.onnxruntime.OnnxJavaType.FLOAT) {
          names.add(output.getKey());
        }
      }
      if (names.isEmpty()) {
        throw new SparsifyException(
            name
                + ": task tensor compares outputs of float values, and this model has none"
                + " (outputs: "
                + session.getOutputNames()
                + ")");
      }
      return names;
    } catch (OrtException e) {
      throw new SparsifyException("ONNX Runtime failed on " + name + ": " + e.getMessage(), e);
    }
  }

  /** A classifier's first output, [batch, classes]: one row of logits per sentence. */
  public float[][] logits(Batch batch) {
    return logitRows(run(batch, Set.of(firstOutput())).get(firstOutput()), batch);
  }

  /** A ranker's first output, [batch, 1] or [batch]: a row of one score per pair. */
  public float[][] scores(Batch batch) {
    return scoreRows(run(batch, Set.of(firstOutput())).get(firstOutput()), batch);
  }

  private float[][] scoreRows(FloatTensor out, Batch batch) {
    boolean oneScore =
        out.shape().length >= 1
            && out.shape()[0] == batch.size()
            && (out.shape().length == 1 || (out.shape().length == 2 && out.shape()[1] == 1));
    if (!oneScore) {
      throw new SparsifyException(
          name
              + ": a ranker's first output must be one score per pair, [batch, 1] or [batch]; "
              + firstOutput()
              + " is "
              + java.util.Arrays.toString(out.shape())
              + (out.shape().length == 3
                  ? " (an encoder's hidden states: use task embedding)"
                  : out.shape().length == 2
                      ? " (a classifier's logits: use task classification)"
                      : ""));
    }
    float[][] rows = new float[batch.size()][];
    for (int b = 0; b < batch.size(); b++) {
      rows[b] = new float[] {out.data()[b]};
    }
    return rows;
  }

  private float[][] logitRows(FloatTensor out, Batch batch) {
    if (out.shape().length != 2 || out.shape()[0] != batch.size()) {
      throw new SparsifyException(
          name
              + ": a classifier's first output must be [batch, classes]; "
              + firstOutput()
              + " is "
              + java.util.Arrays.toString(out.shape())
              + (out.shape().length == 3
                  ? " (an encoder's hidden states: use task embedding)"
                  : out.shape().length == 1 ? " (one score per sample: use task ranking)" : ""));
    }
    int classes = (int) out.shape()[1];
    if (classes < 2) {
      throw new SparsifyException(
          name
              + ": a classifier needs a logit per class, at least 2; "
              + firstOutput()
              + " has "
              + classes
              + " (a single score would agree with any other on its one class; a ranker's score"
              + " per pair is task ranking)");
    }
    float[][] rows = new float[batch.size()][];
    for (int b = 0; b < batch.size(); b++) {
      rows[b] = java.util.Arrays.copyOfRange(out.data(), b * classes, (b + 1) * classes);
    }
    return rows;
  }

  private TokenBatch tokensToPool(Batch batch) {
    if (batch instanceof TokenBatch tokens) {
      return tokens;
    }
    throw new SparsifyException(
        name
            + ": task embedding mean-pools the first output over a sentence's tokens, and tensor"
            + " inputs give no tokens; a model of tensors is evaluated as task classification"
            + " (logits [batch, classes]) or task tensor (every output as it is)");
  }

  /** Mean of the first output over the sentence's real (unpadded) tokens: one row per sentence. */
  public float[][] embed(TokenBatch batch) {
    return pooledRows(run(batch, Set.of(firstOutput())).get(firstOutput()), batch);
  }

  private float[][] pooledRows(FloatTensor hidden, TokenBatch batch) {
    if (hidden.shape().length != 3) {
      throw new SparsifyException(
          name
              + ": first output has rank "
              + hidden.shape().length
              + "; expected [batch, sequence, hidden]"
              + (hidden.shape().length == 1
                      || (hidden.shape().length == 2 && hidden.shape()[1] == 1)
                  ? " (one score per sample: use task ranking)"
                  : hidden.shape().length == 2
                      ? " (a classifier's logits: use task classification)"
                      : ""));
    }
    int seq = (int) hidden.shape()[1];
    int dim = (int) hidden.shape()[2];
    float[][] pooled = new float[batch.size()][dim];
    for (int b = 0; b < batch.size(); b++) {
      int count = 0;
      for (int t = 0; t < seq; t++) {
        if (batch.attentionMask()[b * batch.length() + t] == 0) {
          continue;
        }
        count++;
        int offset = (b * seq + t) * dim;
        for (int d = 0; d < dim; d++) {
          pooled[b][d] += hidden.data()[offset + d];
        }
      }
      for (int d = 0; d < dim; d++) {
        pooled[b][d] /= Math.max(count, 1);
      }
    }
    return pooled;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      // closing a session only frees native memory; nothing to report
    }
  }
}
