package io.sparserollout.sparsify.onnx;

import java.util.Arrays;

/**
 * A constant weight that a MatMul, Gemm or Conv reduces over along {@code reductionAxis}. The 2:4
 * pattern runs along that axis: every run of 4 consecutive reduction indices, for each fixed
 * position of the other axes, keeps at most 2 non-zeros.
 *
 * @param input the activation tensor multiplied by the weight (what SparseGPT calibrates on)
 */
public record PrunableLayer(
    String node, String opType, String weight, String input, long[] dims, int reductionAxis) {

  /** Size of the reduction (K) dimension. */
  public int reduction() {
    return (int) dims[reductionAxis];
  }

  /** Product of the dimensions before the reduction axis. */
  public int outer() {
    return (int) Arrays.stream(dims, 0, reductionAxis).reduce(1, (a, b) -> a * b);
  }

  /** Product of the dimensions after the reduction axis. */
  public int inner() {
    return (int) Arrays.stream(dims, reductionAxis + 1, dims.length).reduce(1, (a, b) -> a * b);
  }

  /** Number of output positions, each a row of {@link #reduction()} weights. */
  public int rows() {
    return outer() * inner();
  }

  /** Flat index of reduction position {@code k} in row {@code row}. */
  public int index(int row, int k) {
    int inner = inner();
    int o = row / inner;
    int i = row % inner;
    return (o * reduction() + k) * inner + i;
  }

  public long size() {
    return Arrays.stream(dims).reduce(1, (a, b) -> a * b);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PrunableLayer p
        && node.equals(p.node)
        && weight.equals(p.weight)
        && Arrays.equals(dims, p.dims)
        && reductionAxis == p.reductionAxis;
  }

  @Override
  public int hashCode() {
    return 31 * weight.hashCode() + Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return opType
        + " "
        + node
        + " weight "
        + weight
        + Arrays.toString(dims)
        + " K axis "
        + reductionAxis;
  }
}
