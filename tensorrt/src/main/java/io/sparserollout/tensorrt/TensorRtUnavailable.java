package io.sparserollout.tensorrt;

/** TensorRT cannot run here: no GPU, no driver, no native libraries, or a GPU too old for it. */
public class TensorRtUnavailable extends RuntimeException {
  public TensorRtUnavailable(String message) {
    super(message);
  }

  public TensorRtUnavailable(String message, Throwable cause) {
    super(message, cause);
  }
}
