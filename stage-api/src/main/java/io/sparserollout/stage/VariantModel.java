package io.sparserollout.stage;

/**
 * One variant a stage builds or evaluates: its name ({@code dense-fp32}, {@code sparse-int8}...),
 * the ONNX model it comes from and the digest that model's stage reported (null: none known).
 */
public record VariantModel(String name, String model, String sha256) {
  public static final String DENSE = "dense-";
  public static final String SPARSE = "sparse-";

  /** {@code name=path}, as the command line spells it. */
  public String option() {
    return name + "=" + model;
  }

  /** The precision the name ends with: fp32, fp16 or int8. */
  public static String precisionOf(String name) {
    return name.substring(name.indexOf('-') + 1);
  }
}
