package io.sparserollout.serving.backend;

import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import java.util.List;
import java.util.Map;

/** A loaded model that runs requests: ONNX Runtime on CPU or TensorRT on GPU. */
public interface InferenceBackend extends AutoCloseable {
  /** The protocol's platform name, e.g. onnxruntime_onnx or tensorrt_plan. */
  String platform();

  List<TensorSpec> inputs();

  List<TensorSpec> outputs();

  /** Runs validated inputs; returns every model output by name. */
  Map<String, Tensor> infer(List<Tensor> inputs);

  @Override
  void close();
}
