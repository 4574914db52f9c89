package io.sparserollout.sparsify.prune;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.GraphSlicer;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Calibration batches flowing once through a text model, a segment at a time: {@link #forEach} runs
 * only the nodes that the requested tensor needs and that have not run yet, with the weights as
 * they are at that moment, so each layer group sees the output of the layers pruned before it.
 * Between segments it keeps, per batch, only the tensors a node still to run reads.
 */
final class ForwardInSegments implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final OnnxModel model;
  private final GraphSlicer slicer;
  private final List<? extends Batch> batches;
  private final List<Map<String, OnnxTensor>> live = new ArrayList<>();
  private final int threads;

  ForwardInSegments(OnnxModel model, List<? extends Batch> batches, int threads) {
    this.model = model;
    this.slicer = new GraphSlicer(model.proto().getGraph());
    this.batches = batches;
    this.threads = threads;
    Set<String> weights = new HashSet<>();
    model.proto().getGraph().getInitializerList().forEach(t -> weights.add(t.getName()));
    List<String> inputs =
        model.proto().getGraph().getInputList().stream()
            .map(ValueInfoProto::getName)
            .filter(n -> !weights.contains(n))
            .toList();
    try {
      for (Batch batch : batches) {
        Map<String, OnnxTensor> values = new LinkedHashMap<>();
        live.add(values);
        for (String input : inputs) {
          values.put(
              input,
              batch instanceof TokenBatch tokens
                  ? tokenInput(input, tokens)
                  : tensorInput(input, (TensorBatch) batch));
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Position in the graph of the node producing {@code tensor}: the order to calibrate in. */
  int position(String tensor) {
    return slicer.position(tensor);
  }

  /** Whether a node that has run already reads {@code tensor}: a weight it is too late to prune. */
  boolean alreadyRead(String tensor) {
    return slicer.alreadyRead(tensor);
  }

  /** Computes {@code tensor} for every batch (running what it needs) and hands each to consumer. */
  void forEach(String tensor, BiConsumer<Batch, OrtModel.FloatTensor> consumer) {
    GraphSlicer.Segment segment = slicer.next(tensor);
    if (!segment.nodes().isEmpty()) {
      run(segment);
    }
    for (int b = 0; b < batches.size(); b++) {
      OnnxTensor value = live.get(b).get(tensor);
      if (value == null || value.getInfo().type != OnnxJavaType.FLOAT) {
        throw new SparsifyException(tensor + " is not a float tensor the model computes");
      }
      FloatBuffer buffer = value.getFloatBuffer();
      float[] data = new float[buffer.remaining()];
      buffer.get(data);
      consumer.accept(batches.get(b), new OrtModel.FloatTensor(value.getInfo().getShape(), data));
    }
    release();
  }

  private void run(GraphSlicer.Segment segment) {
    Map<String, TypeProto> types = new HashMap<>();
    for (String input : segment.inputs()) {
      OnnxTensor value = live.get(0).get(input);
      if (value != null) {
        TensorInfo info = value.getInfo();
        // The Java enum's own numbers differ from ONNX's; its names match after the prefix.
        String element = info.onnxType.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "");
        TensorProto.DataType type;
        try {
          type = TensorProto.DataType.valueOf(element);
        } catch (IllegalArgumentException e) {
          throw new SparsifyException(
              "calibration cannot carry "
                  + input
                  + " between layers: its type "
                  + element
                  + " is unknown to this build");
        }
        types.put(input, GraphSlicer.tensorType(type.getNumber(), info.getShape().length));
      }
    }
    byte[] bytes = GraphSlicer.model(model, segment, types);
    try (OrtSession.SessionOptions options = OrtModel.captureOptions(threads);
        OrtSession session = ENV.createSession(bytes, options)) {
      Set<String> outputs = new HashSet<>(segment.outputs());
      for (Map<String, OnnxTensor> values : live) {
        Map<String, OnnxTensor> feed = new HashMap<>();
        segment.inputs().forEach(name -> feed.put(name, values.get(name)));
        // The result's tensors are kept as they are, in ONNX Runtime's memory: closing the result
        // would free them, copying would cost a second buffer counted against the JVM's limits.
        OrtSession.Result result = session.run(feed, outputs);
        for (Map.Entry<String, OnnxValue> output : result) {
          if (!(output.getValue() instanceof OnnxTensor)) {
            result.close();
            throw new SparsifyException(
                "calibration can carry only tensors between layers; "
                    + output.getKey()
                    + " is a "
                    + output.getValue().getType());
          }
        }
        for (Map.Entry<String, OnnxValue> output : result) {
          values.put(output.getKey(), (OnnxTensor) output.getValue());
        }
      }
    } catch (OrtException e) {
      throw new SparsifyException(
          "ONNX Runtime failed on the layers that compute "
              + segment.target()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Frees the tensors no node still to run reads. */
  private void release() {
    for (Map<String, OnnxTensor> values : live) {
      values
          .entrySet()
          .removeIf(
              e -> {
                if (slicer.stillRead(e.getKey())) {
                  return false;
                }
                e.getValue().close();
                return true;
              });
    }
  }

  private static OnnxTensor tokenInput(String input, TokenBatch batch) {
    long[] values =
        switch (input) {
          case "input_ids" -> batch.ids();
          case "attention_mask" -> batch.attentionMask();
          case "token_type_ids" -> batch.typeIds();
          default ->
              throw new SparsifyException(
                  "the model's input "
                      + input
                      + " is not one a tokenizer gives (input_ids, attention_mask,"
                      + " token_type_ids); calibrate it on tensors, an .npz file of arrays named"
                      + " after its inputs");
        };
    try {
      return OnnxTensor.createTensor(
          ENV, LongBuffer.wrap(values), new long[] {batch.size(), batch.length()});
    } catch (OrtException e) {
      throw new SparsifyException("cannot create the " + input + " tensor: " + e.getMessage(), e);
    }
  }

  private static OnnxTensor tensorInput(String input, TensorBatch batch) {
    TensorBatch.Input values = batch.inputs().get(input);
    if (values == null) {
      throw new SparsifyException(
          "the calibration data has no array for the model's input "
              + input
              + " (it holds "
              + batch.inputs().keySet()
              + ")");
    }
    try {
      return OrtModel.tensor(values);
    } catch (OrtException e) {
      throw new SparsifyException("cannot create the " + input + " tensor: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    live.forEach(values -> values.values().forEach(OnnxTensor::close));
    live.clear();
  }
}
