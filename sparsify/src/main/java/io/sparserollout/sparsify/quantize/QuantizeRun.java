package io.sparserollout.sparsify.quantize;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.onnx.PrunableLayer;
import io.sparserollout.sparsify.text.Activations;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.OrtModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * int8 post-training quantization of every MatMul, Gemm and Conv with a constant weight: activation
 * scales from a percentile of calibration activations (99.99 by default, as in the sparse-QAT
 * recipe), symmetric per-channel weight scales from the weights' maxima, explicit Q/DQ nodes. 2:4
 * zeros stay zeros: int8 zero is exactly zero.
 */
public final class QuantizeRun {
  public static final String METADATA_KEY = "sparserollout.quantization";
  private static final float INT8_MAX = 127f;

  private QuantizeRun() {}

  public static QuantizeReport run(
      OnnxModel model,
      List<? extends Batch> calibration,
      double percentile,
      int threads,
      Path out,
      Consumer<String> progress) {
    long started = System.nanoTime();
    if (percentile <= 0 || percentile > 100) {
      throw new SparsifyException("percentile must be in (0, 100], got " + percentile);
    }
    List<String> skipped = new ArrayList<>();
    List<PrunableLayer> layers = quantizable(model, skipped);
    int before = OpsetUpgrade.defaultOpset(model.proto());
    upgradeOpsetChecked(model, calibration.get(0), threads);
    progress.accept(
        "quantize: opset " + before + " -> " + OpsetUpgrade.defaultOpset(model.proto()));
    Map<String, Float> activationScales =
        activationScales(model, layers, calibration, percentile, threads);
    insert(model, layers, activationScales, "int8-ptq percentile=" + percentile, out);
    return new QuantizeReport(
        out.toString(),
        layers.size(),
        activationScales.size(),
        percentile,
        before,
        OpsetUpgrade.defaultOpset(model.proto()),
        skipped,
        (System.nanoTime() - started) / 1e9);
  }

  /** The activation scales PTQ would use: what quantization-aware training starts from. */
  public static Map<String, Float> calibrate(
      OnnxModel model, List<? extends Batch> calibration, double percentile, int threads) {
    return activationScales(
        model, quantizable(model, new ArrayList<>()), calibration, percentile, threads);
  }

  /**
   * Writes a model trained with int8 fake quantization: the Q/DQ pairs use the activation scales it
   * trained with and per-channel weight scales from its final weights, as its fake quantizers
   * computed them.
   */
  public static void exportTrained(
      OnnxModel model,
      Map<String, Float> activationScales,
      Batch probe,
      int threads,
      String metadata,
      Path out) {
    List<PrunableLayer> layers = quantizable(model, new ArrayList<>());
    upgradeOpsetChecked(model, probe, threads);
    insert(model, layers, activationScales, metadata, out);
  }

  /** The layers int8 quantization writes with Q/DQ, as PTQ and a QAT export choose them. */
  public static List<PrunableLayer> quantizedLayers(OnnxModel model) {
    return quantizable(model, new ArrayList<>());
  }

  private static List<PrunableLayer> quantizable(OnnxModel model, List<String> skipped) {
    List<PrunableLayer> layers = new ArrayList<>();
    LayerFinder.Layers found = LayerFinder.quantizable().find(model);
    found.skipped().forEach(s -> skipped.add(s.weight() + ": left in float (" + s.reason() + ")"));
    for (PrunableLayer layer : found.prunable()) {
      if (!readsWeightDirectly(model, layer)) {
        throw new SparsifyException(
            "the model is already quantized: "
                + layer.weight()
                + " reaches its layer through Q/DQ");
      } else {
        layers.add(layer);
      }
    }
    if (layers.isEmpty()) {
      throw new SparsifyException(
          "the model has no MatMul, Gemm or Conv layer with a constant weight");
    }
    return layers;
  }

  private static void insert(
      OnnxModel model,
      List<PrunableLayer> layers,
      Map<String, Float> activationScales,
      String metadata,
      Path out) {
    Map<String, QdqInserter.WeightScales> weightScales = new LinkedHashMap<>();
    for (PrunableLayer layer : layers) {
      weightScales.put(layer.weight(), weightScales(model.floats(layer.weight()), layer));
    }
    new QdqInserter(model.proto().getGraphBuilder()).insert(activationScales, weightScales);
    model.putMetadata(METADATA_KEY, metadata);
    model.save(out);
  }

  private static boolean readsWeightDirectly(OnnxModel model, PrunableLayer layer) {
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      if (node.getInputCount() >= 2
          && node.getInput(1).equals(layer.weight())
          && node.getOpType().equals(layer.opType())) {
        return true;
      }
    }
    return false;
  }

  /** Opset 13 is needed for per-channel Q/DQ; the upgraded model must compute the same thing. */
  private static void upgradeOpsetChecked(OnnxModel model, Batch probe, int threads) {
    float[] before;
    try (OrtModel original = OrtModel.open(model.toBytes(List.of()), "original model", threads)) {
      before = original.firstOutput(probe);
    }
    if (!OpsetUpgrade.toOpset13(model.proto())) {
      return;
    }
    float[] after;
    try (OrtModel upgraded = OrtModel.open(model.toBytes(List.of()), "opset-13 model", threads)) {
      after = upgraded.firstOutput(probe);
    }
    for (int i = 0; i < before.length; i++) {
      if (before.length != after.length
          || Math.abs(before[i] - after[i]) > 1e-4 * Math.max(1, Math.abs(before[i]))) {
        throw new SparsifyException(
            "upgrading the model to opset 13 (needed for per-channel int8) changed its outputs;"
                + " export the model with opset 13 or newer");
      }
    }
  }

  private static Map<String, Float> activationScales(
      OnnxModel model,
      List<PrunableLayer> layers,
      List<? extends Batch> calibration,
      double percentile,
      int threads) {
    // A linear layer's input is read as rows of its K (padding tokens left out); a convolution's
    // [batch, channels, ...] as a whole, since it carries no padding.
    Map<String, Integer> widths = new LinkedHashMap<>();
    layers.forEach(
        l -> widths.putIfAbsent(l.input(), l.opType().equals("Conv") ? 0 : l.reduction()));
    Map<String, Percentile> values = new LinkedHashMap<>();
    widths.keySet().forEach(a -> values.put(a, new Percentile()));
    try (OrtModel capture =
        OrtModel.openForCapture(model.toBytes(List.copyOf(widths.keySet())), threads)) {
      for (Batch batch : calibration) {
        var outputs = capture.run(batch, Set.copyOf(widths.keySet()));
        for (var entry : widths.entrySet()) {
          float[] rows =
              entry.getValue() == 0
                  ? outputs.get(entry.getKey()).data()
                  : Activations.realTokenRows(outputs.get(entry.getKey()), batch, entry.getValue());
          values.get(entry.getKey()).addAbsolute(rows, 0, rows.length);
        }
      }
    }
    Map<String, Float> scales = new LinkedHashMap<>();
    values.forEach((a, p) -> scales.put(a, Math.max(p.at(percentile), 1e-8f) / INT8_MAX));
    return scales;
  }

  /** Symmetric per-output-channel scales: max |w| of the channel over 127. */
  static QdqInserter.WeightScales weightScales(float[] w, PrunableLayer layer) {
    if (layer.opType().equals("Conv")) {
      return convolutionScales(w, layer);
    }
    int channelAxis = 1 - layer.reductionAxis();
    float[] scales = new float[layer.rows()];
    for (int row = 0; row < layer.rows(); row++) {
      float max = 0;
      for (int k = 0; k < layer.reduction(); k++) {
        max = Math.max(max, Math.abs(w[layer.index(row, k)]));
      }
      scales[row] = max == 0 ? 1f : max / INT8_MAX;
    }
    return new QdqInserter.WeightScales(scales, channelAxis);
  }

  /** A convolution's weight [out, in/group, kernel...]: a scale per output channel (axis 0). */
  private static QdqInserter.WeightScales convolutionScales(float[] w, PrunableLayer layer) {
    int channels = (int) layer.dims()[0];
    int each = w.length / channels;
    float[] scales = new float[channels];
    for (int c = 0; c < channels; c++) {
      float max = 0;
      for (int i = c * each; i < (c + 1) * each; i++) {
        max = Math.max(max, Math.abs(w[i]));
      }
      scales[c] = max == 0 ? 1f : max / INT8_MAX;
    }
    return new QdqInserter.WeightScales(scales, 0);
  }
}
