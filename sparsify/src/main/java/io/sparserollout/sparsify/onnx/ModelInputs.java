package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TensorBatch;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks tensors given as data against the inputs the model declares, once, before any run: the
 * names, the element types and the fixed dimensions, each mismatch named (rather than ONNX
 * Runtime's message about a node, or a calibration on inputs of a shape the model never serves).
 */
public final class ModelInputs {
  private ModelInputs() {}

  public static void check(OnnxModel model, List<? extends Batch> batches) {
    if (batches.isEmpty() || !(batches.get(0) instanceof TensorBatch first)) {
      return;
    }
    Map<String, ValueInfoProto> inputs = new LinkedHashMap<>();
    for (ValueInfoProto input : model.proto().getGraph().getInputList()) {
      if (model.initializer(input.getName()).isEmpty()) {
        inputs.put(input.getName(), input);
      }
    }
    if (!inputs.keySet().equals(first.inputs().keySet())) {
      throw new SparsifyException(
          "the model takes the inputs "
              + inputs.keySet()
              + "; the data holds the arrays "
              + first.inputs().keySet()
              + " (name each array after the input it feeds)");
    }
    inputs.forEach((name, declared) -> check(name, declared, first.inputs().get(name)));
  }

  private static void check(String name, ValueInfoProto declared, TensorBatch.Input given) {
    int type = declared.getType().getTensorType().getElemType();
    String wanted = TensorProto.DataType.forNumber(type) + "";
    String have = elementType(given.values());
    if (!wanted.equals(have)) {
      throw new SparsifyException(
          "array " + name + " holds " + have + "; the model's input " + name + " takes " + wanted);
    }
    if (!declared.getType().getTensorType().hasShape()) {
      return;
    }
    TensorShapeProto shape = declared.getType().getTensorType().getShape();
    long[] dims = given.shape();
    boolean fits = shape.getDimCount() == dims.length;
    for (int d = 1; fits && d < dims.length; d++) {
      long fixed = shape.getDim(d).getDimValue();
      fits = fixed <= 0 || fixed == dims[d];
    }
    if (!fits) {
      StringBuilder expected = new StringBuilder("[");
      for (int d = 0; d < shape.getDimCount(); d++) {
        TensorShapeProto.Dimension dim = shape.getDim(d);
        expected.append(d == 0 ? "" : ", ");
        expected.append(dim.getDimValue() > 0 ? dim.getDimValue() + "" : "?");
      }
      throw new SparsifyException(
          "array "
              + name
              + " has samples of shape "
              + Arrays.toString(Arrays.copyOfRange(dims, 1, dims.length))
              + " (array "
              + Arrays.toString(dims)
              + "); the model's input "
              + name
              + " is "
              + expected
              + "]");
    }
  }

  private static String elementType(Buffer values) {
    if (values instanceof FloatBuffer) {
      return "FLOAT";
    }
    return values instanceof LongBuffer ? "INT64" : "INT32";
  }
}
