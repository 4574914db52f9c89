package io.sparserollout.serving.protocol;

/** A model input or output as the model declares it; -1 marks a dynamic dimension. */
public record TensorSpec(String name, Datatype datatype, long[] shape) {}
