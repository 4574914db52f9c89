package io.sparserollout.serving.protocol;

/** Open Inference Protocol tensor datatypes this server moves, and their ONNX counterparts. */
public enum Datatype {
  BOOL,
  INT8,
  UINT8,
  INT16,
  INT32,
  INT64,
  FP16,
  FP32,
  FP64,
  BYTES;

  public static Datatype parse(String name) {
    try {
      return valueOf(name);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new BadRequest(
          "unsupported datatype "
              + name
              + "; this server handles BOOL, INT8, UINT8, INT16, INT32,"
              + " INT64, FP16, FP32, FP64 and BYTES");
    }
  }
}
