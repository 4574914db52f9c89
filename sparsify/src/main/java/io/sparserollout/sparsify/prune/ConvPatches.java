package io.sparserollout.sparsify.prune;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.OrtModel;

/**
 * The unfolded (im2col) input of a 1-D or 2-D convolution, for SparseGPT: one row per output
 * position, holding the input values under the kernel ordered (kernel tap, input channel), channel
 * fastest. Four consecutive columns are then four consecutive input channels at one tap, the group
 * 2:4 sparsity prunes along C, and the weight becomes a matrix [output channels, taps x C] that
 * SparseGPT prunes like a linear layer's.
 */
final class ConvPatches {
  /** Rows unfolded at a time: bounds the memory a large feature map needs. */
  private static final int CHUNK = 4096;

  /** Kernel taps x input channels above which the Hessian (columns squared) takes over 512 MB. */
  private static final long MAX_COLUMNS = 8192;

  private final int channels;
  private final int kh;
  private final int kw;
  private final int sh;
  private final int sw;
  private final int dh;
  private final int dw;
  private final int padTop;
  private final int padLeft;
  private final int padBottom;
  private final int padRight;

  private ConvPatches(int channels, int[] kernel, int[] strides, int[] dilations, int[] pads) {
    this.channels = channels;
    this.kh = kernel[0];
    this.kw = kernel[1];
    this.sh = strides[0];
    this.sw = strides[1];
    this.dh = dilations[0];
    this.dw = dilations[1];
    this.padTop = pads[0];
    this.padLeft = pads[1];
    this.padBottom = pads[2];
    this.padRight = pads[3];
  }

  /** Why SparseGPT cannot unfold this convolution's input, or null when it can. */
  static String unsupported(NodeProto conv, long[] weightDims) {
    if (weightDims.length != 3 && weightDims.length != 4) {
      return "a " + (weightDims.length - 2) + "-D convolution (only 1-D and 2-D are unfolded)";
    }
    if (intAttribute(conv, "group", 1) != 1) {
      return "a grouped convolution (group " + intAttribute(conv, "group", 1) + ")";
    }
    long columns = weightDims[1];
    for (int i = 2; i < weightDims.length; i++) {
      columns *= weightDims[i];
    }
    if (columns > MAX_COLUMNS) {
      return "too wide to unfold ("
          + columns
          + " inputs per output; its Hessian would take "
          + columns * columns * 8 / (1 << 20)
          + " MB)";
    }
    String autoPad = stringAttribute(conv, "auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
      return "auto_pad " + autoPad + " (only explicit pads are unfolded)";
    }
    return null;
  }

  /** The geometry of {@code conv} with weight [O, C, kernel...]; see {@link #unsupported}. */
  static ConvPatches of(NodeProto conv, long[] weightDims) {
    String why = unsupported(conv, weightDims);
    if (why != null) {
      throw new SparsifyException("cannot unfold the input of " + conv.getName() + ": " + why);
    }
    boolean oneD = weightDims.length == 3;
    int[] kernel =
        oneD
            ? new int[] {1, (int) weightDims[2]}
            : new int[] {(int) weightDims[2], (int) weightDims[3]};
    int[] strides = spatial(ints(conv, "strides"), oneD, 1);
    int[] dilations = spatial(ints(conv, "dilations"), oneD, 1);
    int[] pads = ints(conv, "pads");
    int[] fourPads =
        pads == null
            ? new int[4]
            : oneD
                ? new int[] {0, pads[0], 0, pads[1]}
                : new int[] {pads[0], pads[1], pads[2], pads[3]};
    return new ConvPatches((int) weightDims[1], kernel, strides, dilations, fourPads);
  }

  /** Columns of a patch: kernel taps x input channels. */
  int columns() {
    return kh * kw * channels;
  }

  /** Adds the Gram matrix of the patches of {@code x} ([N, C, H, W] or [N, C, L]) to hessian. */
  void addGram(double[] hessian, OrtModel.FloatTensor x) {
    forEachChunk(x, (rows, count) -> Torch.addGram(hessian, rows, count, columns()));
  }

  interface Chunk {
    void accept(float[] rows, int count);
  }

  /**
   * Hands the patches of {@code x} to consumer, up to {@link #CHUNK} rows at a time, in an array of
   * exactly {@code count} rows. Padding positions of a text batch are unfolded too: a convolution
   * sees them, as it does when it serves.
   */
  void forEachChunk(OrtModel.FloatTensor x, Chunk consumer) {
    long[] shape = x.shape();
    boolean oneD = shape.length == 3;
    if ((shape.length != 3 && shape.length != 4) || shape[1] != channels) {
      throw new SparsifyException(
          "convolution input has shape "
              + java.util.Arrays.toString(shape)
              + ", expected C="
              + channels);
    }
    int n = (int) shape[0];
    int h = oneD ? 1 : (int) shape[2];
    int w = (int) shape[shape.length - 1];
    int outH = (h + padTop + padBottom - dh * (kh - 1) - 1) / sh + 1;
    int outW = (w + padLeft + padRight - dw * (kw - 1) - 1) / sw + 1;
    int cols = columns();
    float[] rows = new float[Math.min(CHUNK, Math.max(1, n * outH * outW)) * cols];
    int count = 0;
    float[] data = x.data();
    for (int b = 0; b < n; b++) {
      for (int oh = 0; oh < outH; oh++) {
        for (int ow = 0; ow < outW; ow++) {
          int base = count * cols;
          for (int i = 0; i < kh; i++) {
            int ih = oh * sh - padTop + i * dh;
            for (int j = 0; j < kw; j++) {
              int iw = ow * sw - padLeft + j * dw;
              int at = base + (i * kw + j) * channels;
              boolean inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
              for (int c = 0; c < channels; c++) {
                rows[at + c] = inside ? data[((b * channels + c) * h + ih) * w + iw] : 0f;
              }
            }
          }
          if (++count * cols == rows.length) {
            consumer.accept(rows, count);
            count = 0;
          }
        }
      }
    }
    if (count > 0) {
      consumer.accept(java.util.Arrays.copyOf(rows, count * cols), count);
    }
  }

  /** Weight [O, C, taps] (taps flattened) as rows [O, taps x C] in patch column order. */
  float[] toRows(float[] weight) {
    int taps = kh * kw;
    float[] rows = new float[weight.length];
    int out = weight.length / (channels * taps);
    for (int o = 0; o < out; o++) {
      for (int c = 0; c < channels; c++) {
        for (int t = 0; t < taps; t++) {
          rows[o * channels * taps + t * channels + c] = weight[(o * channels + c) * taps + t];
        }
      }
    }
    return rows;
  }

  /** Inverse of {@link #toRows}. */
  float[] fromRows(float[] rows) {
    int taps = kh * kw;
    float[] weight = new float[rows.length];
    int out = rows.length / (channels * taps);
    for (int o = 0; o < out; o++) {
      for (int c = 0; c < channels; c++) {
        for (int t = 0; t < taps; t++) {
          weight[(o * channels + c) * taps + t] = rows[o * channels * taps + t * channels + c];
        }
      }
    }
    return weight;
  }

  private static int[] spatial(int[] values, boolean oneD, int fallback) {
    if (values == null) {
      return new int[] {fallback, fallback};
    }
    return oneD ? new int[] {fallback, values[0]} : new int[] {values[0], values[1]};
  }

  private static AttributeProto attribute(NodeProto node, String name) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  private static long intAttribute(NodeProto node, String name, long fallback) {
    AttributeProto a = attribute(node, name);
    return a == null ? fallback : a.getI();
  }

  private static String stringAttribute(NodeProto node, String name, String fallback) {
    AttributeProto a = attribute(node, name);
    return a == null ? fallback : a.getS().toStringUtf8();
  }

  private static int[] ints(NodeProto node, String name) {
    AttributeProto a = attribute(node, name);
    return a == null ? null : a.getIntsList().stream().mapToInt(Long::intValue).toArray();
  }
}
